"""One alerts feed (``GET /alerts``, ``GET /institutions/{id}/alerts``) on real PostgreSQL: a decision of every kind
taken through the real consumer path, then listed, filtered, paged and opened and closed through REST.

2026, R3 live in Guizhou: H001 (贵阳 520100) does not pay INV-1 (warned 10-09, withheld from 10-23, released by its
payment on 11-03); H002 (贵阳) is at 65% of its Q1 volume (warned and suspended, resumed on 04-14 by catching up);
H003 (贵阳) buys more non-winning than winning base units in October (R4); H009 (两江 500099) passes its
filing-purchase warning line in 2025 and in 2026 (R7); M001 misses January's report (Hubei contract) until 04-10.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from jicai_alerts.adapters.policy import FOLDED
from jicai_alerts.domain.alert_kinds import AlertKind
from jicai_kit.auth import Role
from tests.service.alerts import test_non_winning as nw
from tests.service.alerts import test_volume_completion as vc
from tests.service.alerts.test_flow import Alerts, default_alerts, invoice, payment
from tests.service.alerts.test_kpis import filing
from tests.service.alerts.test_manufacturer_report import submitted, wuhan_contract
from tests.support.shared_apps import DefaultApps

Token = Callable[[str, Role], dict[str, str]]


@pytest.fixture
def alerts(default_apps: DefaultApps, token: Token, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Alerts]:
    policy = vc.policy_dir_with_go_live(tmp_path, vc.GUIZHOU_SOURCE, "volume_completion_from = 2026-01-01")
    monkeypatch.setenv("JICAI_POLICY_DIR", str(policy))
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    yield default_alerts(default_apps, token)
    FOLDED.reset()


def record_every_kind(alerts: Alerts) -> None:
    h002 = {"institution_id": "H002", "manufacturer_id": "M002"}
    alerts.deliver(vc.contract("C2").model_copy(update=h002))
    alerts.deliver(vc.accepted("A2-1", 650, date(2026, 3, 20), contract_id="C2").model_copy(update={"institution_id": "H002"}))
    alerts.deliver(wuhan_contract().model_copy(update={"institution_id": "H004", "contract_id": "C4"}))
    for month in range(2, 11):  # every month on time but January, never reported by 02-05
        alerts.deliver(submitted(f"2026-{month:02}", date(2026, month + 1, 4)))
    line = alerts.client.put(
        "/institutions/H009/filing-warning-line", json={"amount": "5000.00", "from_year": 2025, "reason": "区医保局核定"},
        headers=alerts.headers,
    )
    assert line.status_code == 200, line.text
    for filing_id, amount, on in (("F1", "5000.00", date(2025, 3, 2)), ("F2", "0.01", date(2025, 5, 6)), ("F3", "6000.00", date(2026, 2, 9))):
        alerts.deliver(filing(filing_id, amount, on))
    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))  # H002: Q1 warned and suspended; M001: January missed

    alerts.deliver(vc.accepted("A2-2", 3350, date(2026, 4, 14), contract_id="C2").model_copy(update={"institution_id": "H002"}))
    alerts.close_days(date(2026, 4, 14), date(2026, 4, 14))  # H002 caught up: resumed
    alerts.deliver(submitted("2026-01", date(2026, 4, 10)))  # the late report closes the miss

    alerts.deliver(invoice())
    h003 = {"institution_id": "H003"}
    alerts.deliver(nw.product())
    alerts.deliver(nw.accepted("A3-1", 100, date(2026, 10, 5)).model_copy(update=h003))
    alerts.deliver(nw.bought("B3-1", 707, date(2026, 10, 9)).model_copy(update=h003))
    alerts.close_days(date(2026, 10, 31), date(2026, 10, 31))  # H001 warned and withheld; H003 above the cap


def feed(alerts: Alerts, query: str = "", headers: dict[str, str] | None = None) -> dict[str, object]:
    page = alerts.get(f"/alerts{query}", headers)
    assert isinstance(page, dict)
    return page


def listed(page: dict[str, object]) -> list[tuple[str, str, str, str | None]]:
    items = page["items"]
    assert isinstance(items, list)
    return [(a["alert_id"], a["status"], a["opened_on"], a["closed_on"]) for a in items]


def test_every_rule_s_decisions_are_one_feed_with_their_kind_status_region_summary_and_why(alerts: Alerts) -> None:
    record_every_kind(alerts)

    page = feed(alerts, "?limit=500")
    by_id = {a["alert_id"]: a for a in page["items"]}  # type: ignore[attr-defined]
    assert listed(page) == [
        ("filing-warning-H009-2025", "closed", "2025-05-06", "2025-12-31"),
        ("manufacturer-report-M001-2026-01", "closed", "2026-02-05", "2026-04-10"),
        ("filing-warning-H009-2026", "open", "2026-02-09", None),
        ("volume-warning-H002-2026-03-31", "closed", "2026-03-31", "2026-06-30"),
        ("volume-suspension-H002-2026-03-31", "closed", "2026-04-01", "2026-04-14"),
        ("warning-INV-1", "open", "2026-10-09", None),
        ("withhold-INV-1", "open", "2026-10-23", None),
        ("non-winning-H003-G1-2026-10", "open", "2026-10-31", None),
    ]
    assert page["total"] == 8
    assert {a["kind"] for a in by_id.values()} == set(AlertKind)
    assert {i: a["pooling_region_code"] for i, a in by_id.items()} == {
        "filing-warning-H009-2025": "500099", "filing-warning-H009-2026": "500099", "manufacturer-report-M001-2026-01": None,
        "volume-warning-H002-2026-03-31": "520100", "volume-suspension-H002-2026-03-31": "520100",
        "warning-INV-1": "520100", "withhold-INV-1": "520100", "non-winning-H003-G1-2026-10": "520100",
    }
    suspension = by_id["volume-suspension-H002-2026-03-31"]
    assert (suspension["kind"], suspension["closed_by"], suspension["ratio"]) == (
        "settlement_suspended", "volume-resumption-H002-2026-03-31", "0.6500",
    )
    assert suspension["summary"] == "暂停医保月结算 from 2026-04-01: 65% of the agreed volume by the period end 2026-03-31"
    warning = by_id["warning-INV-1"]
    assert (warning["invoice_id"], warning["deadline"], warning["outstanding_amount"], warning["since"]) == (
        "INV-1", "2026-10-08", "10000.00", "2026-10-09",
    )
    assert warning["summary"] == "预警 overdue: invoice INV-1 not paid in full by 2026-10-08, 10000.00 outstanding"
    assert by_id["non-winning-H003-G1-2026-10"]["summary"] == (
        "非中选 above the cap: group G1 in 2026-10, non-winning at 101% of winning (cap 100%)"
    )
    assert by_id["filing-warning-H009-2026"]["summary"] == "备案采购 2026: 6000.00 passed the warning line 5000.00 on 2026-02-09"
    assert by_id["manufacturer-report-M001-2026-01"]["manufacturer_id"] == "M001"
    for alert in by_id.values():  # every alert's why is where it says
        assert alert["why"] == f"/decisions/{alert['alert_id']}"
        assert alerts.get(alert["why"])["decision_id"] == alert["alert_id"]

    alerts.deliver(payment("P1", date(2026, 11, 3), INV_1="10000.00"))
    alerts.close_days(date(2026, 11, 30), date(2026, 11, 30))  # November evaluated: October's R4 finding is superseded

    assert listed(feed(alerts, "?status=open")) == [("filing-warning-H009-2026", "open", "2026-02-09", None)]
    closed = feed(alerts, "?status=closed&region=520100")
    assert [(i, c) for i, _, _, c in listed(closed)] == [
        ("volume-warning-H002-2026-03-31", "2026-06-30"), ("volume-suspension-H002-2026-03-31", "2026-04-14"),
        ("warning-INV-1", "2026-11-03"), ("withhold-INV-1", "2026-11-03"), ("non-winning-H003-G1-2026-10", "2026-11-30"),
    ]
    assert [a["closed_by"] for a in closed["items"][2:4]] == ["release-INV-1", "release-INV-1"]  # type: ignore[index]


def test_an_institution_s_alerts_list_every_rule_open_ones_by_default(alerts: Alerts) -> None:
    record_every_kind(alerts)

    assert [(a["alert_id"], a["kind"]) for a in alerts.get("/institutions/H002/alerts?include_closed=true")] == [
        ("volume-warning-H002-2026-03-31", "volume_warning"), ("volume-suspension-H002-2026-03-31", "settlement_suspended"),
    ]
    assert alerts.get("/institutions/H002/alerts") == []  # both closed
    assert [a["kind"] for a in alerts.get("/institutions/H001/alerts")] == ["overdue_warning", "settlement_withheld"]
    assert [a["kind"] for a in alerts.get("/institutions/H001/alerts?kind=settlement_withheld")] == ["settlement_withheld"]
    assert [a["alert_id"] for a in alerts.get("/institutions/H009/alerts?status=closed")] == ["filing-warning-H009-2025"]
    assert [a["kind"] for a in alerts.get("/institutions/H003/alerts")] == ["non_winning_cap_exceeded"]


def test_filters_and_pages(alerts: Alerts) -> None:
    record_every_kind(alerts)

    assert [i for i, *_ in listed(feed(alerts, "?kind=settlement_suspended"))] == ["volume-suspension-H002-2026-03-31"]
    assert [i for i, *_ in listed(feed(alerts, "?region=500099"))] == ["filing-warning-H009-2025", "filing-warning-H009-2026"]
    assert [i for i, *_ in listed(feed(alerts, "?institution_id=H001&status=open"))] == ["warning-INV-1", "withhold-INV-1"]
    first, second = feed(alerts, "?limit=3"), feed(alerts, "?limit=3&offset=3")
    assert (first["total"], second["total"], len(first["items"]), len(second["items"])) == (8, 8, 3, 3)  # type: ignore[arg-type]
    assert listed(first) + listed(second) == listed(feed(alerts))[:6]
    beyond = feed(alerts, "?offset=100")
    assert (beyond["items"], beyond["total"]) == ([], 8)

    for query, field in (("?kind=payment_overdue", "kind"), ("?status=shut", "status"), ("?region=52010X", "region"), ("?limit=0", "limit")):
        response = alerts.client.get(f"/alerts{query}", headers=alerts.headers)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json", response.text
        assert field in response.text


def test_each_party_sees_only_its_own_alerts(alerts: Alerts, token: Token) -> None:
    record_every_kind(alerts)

    h001 = token("H001", Role.INSTITUTION)
    assert [i for i, *_ in listed(feed(alerts, "", h001))] == ["warning-INV-1", "withhold-INV-1"]
    assert [i for i, *_ in listed(feed(alerts, "?institution_id=H001", h001))] == ["warning-INV-1", "withhold-INV-1"]
    assert alerts.client.get("/alerts?institution_id=H002", headers=h001).status_code == 403
    assert alerts.client.get("/institutions/H002/alerts", headers=h001).status_code == 403
    assert [i for i, *_ in listed(feed(alerts, "", token("M001", Role.MANUFACTURER)))] == ["manufacturer-report-M001-2026-01"]
    assert feed(alerts, "", token("M002", Role.MANUFACTURER))["items"] == []
    assert alerts.client.get("/alerts", headers=token("D001", Role.DISTRIBUTOR)).status_code == 403
    assert alerts.client.get("/alerts").status_code == 401
    assert feed(alerts, "", token("fund", Role.FUND))["total"] == 8


def test_amounts_are_decimal_strings(alerts: Alerts) -> None:
    record_every_kind(alerts)
    [withhold] = alerts.get("/institutions/H001/alerts?kind=settlement_withheld")
    assert Decimal(withhold["outstanding_amount"]) == Decimal("10000.00") and isinstance(withhold["outstanding_amount"], str)
