"""Manufacturers' monthly reports (Hubei 003 §五(二)) through the API on real PostgreSQL."""
from __future__ import annotations

from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from jicai_kit.validity import today as business_today
from tests.service.contracts.conftest import Auth, count, published

REPORT = {"month": "2026-10", "submitted_on": "2026-11-03", "produced_quantity": 10000, "supplied_quantity": 9500,
          "stock_quantity": 500, "payments_received": "18810.00"}


def test_a_manufacturer_reports_last_month_once(hubei: TestClient, db_url: str, ops: dict[str, str], token: Auth) -> None:
    m1 = token("M1", Role.MANUFACTURER)
    first, again = (hubei.post("/manufacturer-reports", json=REPORT, headers=m1) for _ in range(2))
    assert (first.status_code, first.json()) == (201, {"id": "M1-2026-10", "created": True})
    assert (again.status_code, again.json()["created"]) == (200, False)
    r = hubei.post("/manufacturer-reports", json={**REPORT, "stock_quantity": 499}, headers=m1)
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    [event] = published(db_url, "ManufacturerReportSubmitted")
    assert event["partitionkey"] == "M1" and event["data"]["payments_received"] == "18810.00"
    [row] = hubei.get("/manufacturer-reports", headers=ops).json()
    assert (row["manufacturer_id"], row["month"], row["stock_quantity"]) == ("M1", "2026-10", 500)
    assert hubei.get("/manufacturer-reports", headers=token("M2", Role.MANUFACTURER)).json() == []
    assert hubei.get("/manufacturer-reports", params={"manufacturer_id": "M1"}, headers=token("M2", Role.MANUFACTURER)).json() == []
    assert hubei.get("/manufacturer-reports", headers=token("H1", Role.INSTITUTION)).status_code == 403


def test_a_report_on_a_month_not_over_or_with_bad_figures_is_refused_and_changes_nothing(
    hubei: TestClient, db_url: str, ops: dict[str, str], token: Auth
) -> None:
    today = business_today(hubei.app.state.settings)  # type: ignore[attr-defined]
    m1 = token("M1", Role.MANUFACTURER)
    for body, field in (
        ({**REPORT, "month": today.strftime("%Y-%m"), "submitted_on": today.isoformat()}, "month"),  # this month is not over
        ({**REPORT, "submitted_on": "2026-10-31"}, "submitted_on"),
        ({**REPORT, "month": "2026-13"}, "month"),
        ({**REPORT, "stock_quantity": -1}, "stock_quantity"),
        ({**REPORT, "payments_received": "1.005"}, "payments_received"),
    ):
        r = hubei.post("/manufacturer-reports", json=body, headers=m1)
        assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}, r.text
    r = hubei.post("/manufacturer-reports", json=REPORT, headers=token("M9", Role.MANUFACTURER))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "manufacturer_id"  # not registered
    assert hubei.post("/manufacturer-reports", json=REPORT, headers=ops).status_code == 403  # the manufacturer reports itself
    assert count(db_url, "select count(*) from manufacturer_reports") == 0
    assert published(db_url, "ManufacturerReportSubmitted") == []
