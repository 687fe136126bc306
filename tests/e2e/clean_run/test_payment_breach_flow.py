"""Contract → acceptance → invoice → days pass → warning → withheld → payment → released."""
from __future__ import annotations

import re

import pytest

from tests.e2e.clean_run.conftest import CleanRun
from tests.e2e.flow import DEADLINE, WARNED_ON, WITHHELD_FROM

pytestmark = pytest.mark.e2e


def test_hospital_push_reports_each_line(clean_run: CleanRun) -> None:
    seen = clean_run.seen
    push = seen["first_push"]
    assert [line["status"] for line in push["results"]] == ["accepted", "accepted"]
    accepted = {a["external_id"]: a for a in seen["final_acceptances"]}
    assert accepted["HIS-0901-2"]["accepted_quantity"] == 50 and accepted["HIS-0901-2"]["rejected_quantity"] == 5


def test_alerts_warns_then_withholds_on_the_rule_dates(clean_run: CleanRun) -> None:
    seen = clean_run.seen
    invoice = seen["invoice_when_withheld"]
    assert (invoice["deadline"], invoice["warned_on"], invoice["withheld_from"]) == (DEADLINE, WARNED_ON, WITHHELD_FROM)
    assert invoice["outstanding"] == "200.00"
    kinds = {a["kind"] for a in seen["alerts_when_withheld"]}
    assert {"overdue_warning", "settlement_withheld"} <= kinds


def test_settlement_is_withheld_with_the_reason_then_released(clean_run: CleanRun) -> None:
    seen = clean_run.seen
    withheld = seen["status_when_withheld"]
    assert withheld["status"] == "withheld"
    assert [w["invoice_id"] for w in withheld["active_withholds"]] == ["INV-001"]
    assert withheld["active_withholds"][0]["profile_id"] == "guizhou-2020"
    [october] = seen["monthly_settlements_when_withheld"]
    assert october["status"] == "withheld"
    assert seen["final_status"]["status"] == "normal"
    [released] = seen["final_monthly_settlements"]
    assert released["status"] == "released" and released["released_on"] == "2026-11-02"
    assert seen["invoice_released"]["released_on"] == "2026-11-02"


def test_metrics_show_the_withheld_institution(clean_run: CleanRun) -> None:
    seen = clean_run.seen
    metrics = seen["metrics_when_withheld"]
    assert re.search(r'^jicai_withheld_institutions(\{[^}]*\})? 1\.0$', metrics["settlement"], re.M)
    assert re.search(r'^jicai_open_alerts\{kind="settlement_withheld"[^}]*\} 1\.0$', metrics["alerts"], re.M)
    consumed = [line for line in metrics["alerts"].splitlines() if line.startswith("jicai_events_consumed_total{")]
    assert any('type="cn.jicai.clock.DayClosed.v1"' in line and 'outcome="handled"' in line for line in consumed)
    assert "jicai_consumer_lag{" in metrics["alerts"] and "jicai_outbox_backlog{" in metrics["alerts"]


def test_every_decision_can_explain_itself(clean_run: CleanRun) -> None:
    why = clean_run.why_withheld
    assert why["decision"]["profile_id"] == "guizhou-2020"
    assert why["parameters"]["overdue"]["grace_working_days"] == 10
    assert why["causes"], "a decision names the events that caused it"
    assert clean_run.invoices_status == 200
