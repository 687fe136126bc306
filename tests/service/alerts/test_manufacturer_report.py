"""Manufacturers' monthly report missing (Hubei 003 §五(二), due by the 5th) on real PostgreSQL:
contracts, reports and day closes in through the consumer path; decisions out through the outbox and API."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from jicai_events.catalog import ContractSigned, ManufacturerReportSubmitted
from jicai_kit.auth import Role
from tests.service.alerts.test_flow import Alerts, alerts

__all__ = ["alerts"]
MISSED = "cn.jicai.alerts.ManufacturerReportMissed.v1"
CLOSED = "cn.jicai.alerts.ManufacturerReportMissClosed.v1"


def wuhan_contract() -> ContractSigned:
    return ContractSigned(
        contract_id="C1", institution_id="H001", pooling_region_code="420100", manufacturer_id="M001", distributor_id="D001",
        product_id="P1", unit_price=Decimal("10.0000"), agreed_quantity=1200, cycle_start=date(2026, 1, 1),
        cycle_end=date(2026, 12, 31), signed_on=date(2025, 12, 20),
    )


def submitted(month: str, on: date) -> ManufacturerReportSubmitted:
    return ManufacturerReportSubmitted(
        report_id=f"M001-{month}", manufacturer_id="M001", month=month, submitted_on=on, produced_quantity=1000,
        supplied_quantity=900, stock_quantity=100, payments_received=Decimal("9000.00"),
    )


def test_a_month_not_reported_by_the_5th_is_missed_until_the_late_report(alerts: Alerts, token: Callable[[str, Role], dict[str, str]]) -> None:
    alerts.deliver(wuhan_contract())
    alerts.deliver(submitted("2026-02", date(2026, 3, 4)))  # February on time; January never by 02-05

    alerts.close_days(date(2026, 2, 5), date(2026, 2, 5))
    assert [k for k, _ in alerts.outbox() if k in (MISSED, CLOSED)] == []
    alerts.close_days(date(2026, 2, 6), date(2026, 3, 6))

    [(kind, data)] = [(k, d) for k, d in alerts.outbox() if k in (MISSED, CLOSED)]
    assert (kind, data["decision_id"], data["month"], data["due_on"], data["profile_id"]) == (
        MISSED, "manufacturer-report-M001-2026-01", "2026-01", "2026-02-05", "hubei-2019",
    )
    assert [m["status"] for m in alerts.get("/manufacturers/M001/missed-reports", token("M001", Role.MANUFACTURER))] == ["missing"]
    why = alerts.get("/decisions/manufacturer-report-M001-2026-01", token("M001", Role.MANUFACTURER))
    assert (why["manufacturer_id"], why["institution_id"], why["effective_on"], why["evaluation"]["status"]) == ("M001", None, "2026-02-05", "missing")
    assert why["parameters"]["manufacturer_report"]["due_day_of_month"] == 5 and why["profile"]["profile_id"] == "hubei-2019"
    assert why["causes"], "the decision names the contract and the day close behind it"
    assert alerts.client.get("/decisions/manufacturer-report-M001-2026-01", headers=token("M002", Role.MANUFACTURER)).status_code == 403

    alerts.deliver(submitted("2026-01", date(2026, 3, 9)))

    assert [k for k, _ in alerts.outbox() if k in (MISSED, CLOSED)] == [MISSED, CLOSED]
    [closed] = alerts.get("/manufacturers/M001/missed-reports")
    assert (closed["status"], closed["closed_on"]) == ("closed", "2026-03-09")
    assert alerts.client.get("/manufacturers/M001/missed-reports", headers=token("M002", Role.MANUFACTURER)).status_code == 403
