"""The year end through the public APIs, on real Kafka and PostgreSQL, every service its own process.

chinesecalendar covers 2026 at most. A Guizhou invoice received 2026-11-20 is due Mon 12-21 and warned
Tue 12-22 although its withhold date needs 2027; one received 12-10 is due in 2027 and waits, visible,
until an operator loads the 2027 calendar with ``jicai-calendar load`` at contracts — no restart — which
publishes it on the policy topic; alerts folds it and decides both as of their own dates (the 2027 calendar
here is made for the test: 01-01…01-03 rest), and every other service folds it too.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from jicai_kit.auth import Role
from jicai_kit.calendar_cli import app as calendar_cli
from tests.e2e.flow import CONTRACT_SETUP, INSTITUTION, _if
from tests.e2e.system import System, eventually, start_system
from tests.support.tokens import bearer

CALENDAR_2027 = """year = 2027
source = "test schedule for 2027 (not the State Council's)"
holidays = [2027-01-01, 2027-01-02, 2027-01-03]
makeup_working_days = []
"""


@pytest.fixture(scope="module")
def system() -> Iterator[System]:
    # warn long before the year end whatever today's date, so /readyz shows the missing year
    system = start_system("calendar", env={"JICAI_CALENDAR_WARNING_DAYS": "366"})
    try:
        yield system
    finally:
        system.stop_all()


Client = Callable[..., httpx.Client]


@pytest.fixture
def client(system: System) -> Iterator[Client]:
    """A client of one service, as a party (closed at the end of the test)."""
    with ExitStack() as stack:
        yield lambda *args: stack.enter_context(system.client(*args))


def accept_and_invoice(client: Client, invoice_id: str, on: str) -> None:
    his = client("orders", INSTITUTION, Role.INSTITUTION)
    push = {"lines": [{"external_id": f"HIS-{invoice_id}", "contract_id": "C001", "accepted_quantity": 100, "rejected_quantity": 0,
                       "accepted_on": on, "lot_number": "A2611"}]}
    eventually(lambda: his.post(f"/institutions/{INSTITUTION}/acceptances:batch", json=push).json()["results"][0]["status"]
               in ("accepted", "duplicate"), what="orders to know contract C001")
    invoice = {"invoice_id": invoice_id, "invoice_number": f"5226{invoice_id[-4:]}", "distributor_id": "D001", "institution_id": INSTITUTION,
               "issued_on": on, "received_on": on, "amount": "198.00",
               "lines": [{"acceptance_id": f"{INSTITUTION}:HIS-{invoice_id}", "quantity": 100}]}
    r = client("orders", "D001", Role.DISTRIBUTOR).post("/invoices", json=invoice)
    assert r.status_code in (200, 201), r.text


def test_year_end_decisions_wait_visibly_for_next_years_calendar_and_are_taken_once_it_is_loaded(
    system: System, client: Client, tmp_path: Path
) -> None:
    ops = client("contracts", "OPS", Role.OPERATOR)
    for path, body in CONTRACT_SETUP:
        assert ops.post(path, json=body).status_code in (200, 201)
    accept_and_invoice(client, "INV-1120", "2026-11-20")
    accept_and_invoice(client, "INV-1210", "2026-12-10")
    alerts = client("alerts", "OPS", Role.OPERATOR)
    settlement = client("settlement", "OPS", Role.OPERATOR)

    # the invoice due next year is tracked, waiting for 2027 — never a 404, never dead-lettered
    waiting = eventually(lambda: _if(alerts.get("/invoices/INV-1210").json(), lambda j: j["status"] == "waiting_for_calendar"),
                         what="INV-1210 waiting in alerts")
    assert (waiting["deadline"], waiting["waiting_for_calendar_year"]) == (None, 2027)
    assert eventually(lambda: settlement.get("/invoices/INV-1210").json(), what="INV-1210 in settlement")["outstanding"] == "198.00"

    # The clock may skip days and decisions are taken as of their own dates: the year's last day closes everything up to it.
    system.close_days(date(2026, 12, 31), date(2026, 12, 31))
    warned = eventually(lambda: _if(alerts.get("/invoices/INV-1120").json(), lambda j: j["status"] == "overdue"), what="INV-1120 warned")
    assert (warned["deadline"], warned["warned_on"], warned["waiting_for_calendar_year"]) == ("2026-12-21", "2026-12-22", 2027)
    blocked = {b["invoice_id"]: b["waiting_for_calendar_year"] for b in alerts.get("/blocked-decisions").json()}
    assert blocked == {"INV-1120": 2027, "INV-1210": 2027}
    ready = client("alerts").get("/readyz").json()
    assert ready["status"] == "degraded" and "load 2027" in ready["warnings"]["calendar"]
    assert 'jicai_calendar_covered_until_timestamp_seconds{missing_year="2027"}' in system.metrics("alerts")
    system.close_days(date(2027, 1, 31), date(2027, 1, 31))  # the clock runs on while the calendar is missing
    assert eventually(lambda: alerts.get("/clock").json()["last_closed_on"] == "2027-01-31", what="January closed")
    assert alerts.get("/invoices/INV-1120").json()["withheld_from"] is None

    calendar_file = tmp_path / "cn-2027.toml"
    calendar_file.write_text(CALENDAR_2027, encoding="utf-8")
    token = bearer("OPS", Role.OPERATOR)
    loaded = CliRunner().invoke(calendar_cli, ["load", str(calendar_file), "--url", system.processes["contracts"].url, "--token", token])
    assert loaded.exit_code == 0 and loaded.output.startswith("201"), loaded.output

    decided = eventually(lambda: _if(alerts.get("/invoices/INV-1120").json(), lambda j: j["withheld_from"] is not None),
                         what="alerts to fold the year from the policy topic and decide what waited")
    first = decided
    second = alerts.get("/invoices/INV-1210").json()
    assert (first["status"], first["withheld_from"], first["waiting_for_calendar_year"]) == ("withheld", "2027-01-07", None)
    assert (second["deadline"], second["warned_on"], second["withheld_from"]) == ("2027-01-11", "2027-01-12", "2027-01-27")
    assert alerts.get("/blocked-decisions").json() == []
    status = eventually(lambda: _if(settlement.get(f"/institutions/{INSTITUTION}/settlement-status").json(),
                                    lambda j: j["status"] == "withheld"), what="settlement withheld from the published decisions")
    assert status["status"] == "withheld"
    assert client("alerts").get("/readyz").json()["status"] in ("ready", "degraded")  # degraded only within 366 days of 2027-12-31

    # the loaded year survives a restart
    system.kill("alerts")
    system.start("alerts")
    calendars: dict[str, Any] = client("alerts", "OPS", Role.OPERATOR).get("/policy/calendars").json()
    assert calendars["covered_until"] == "2027-12-31" and calendars["years"][-1]["loaded_by"] == "OPS"
    # every service folded the year from the policy topic (contracts wrote it)
    again = client("contracts", "OPS", Role.OPERATOR).put("/calendars/2027", json={"file": CALENDAR_2027})
    assert (again.status_code, again.json()["created"]) == (200, False)
    for service in ("contracts", "orders", "settlement", "alerts"):
        changes = eventually(partial(_policy_changes, client(service, "OPS", Role.OPERATOR)), what=f"{service} to fold the year")
        assert [(c["event_type"], c["applied"]) for c in changes] == [("cn.jicai.policy.CalendarYearLoaded.v1", True)], service


def _policy_changes(service: httpx.Client) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = service.get("/policy/changes").json()
    return changes
