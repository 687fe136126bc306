"""R7 monitoring indicators (监测考核) on real PostgreSQL: facts in through the real consumer path, monthly
values, rankings and region aggregates out through the API; the filing-purchase warning line decision
out through the outbox. October 2026, Guizhou 贵阳市 520100 (000 §五(四)) and Liangjiang 500099 (002 §二(三)).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from jicai_events.catalog import FilingPurchaseRecorded, WinningProductListed
from jicai_kit.auth import Role
from tests.service.alerts.test_flow import Alerts, alerts, invoice, payment
from tests.service.alerts.test_non_winning import accepted, bought

__all__ = ["alerts"]
LINE_EXCEEDED = "cn.jicai.alerts.FilingPurchaseWarningLineExceeded.v1"


def two_institutions(alerts: Alerts) -> None:
    """H001 pays its invoice (deadline 10-08) on the deadline; H002 does not pay its own. H001 accepts 10 boxes
    of P1 (× 7 片 = 70) and buys 70 片 of a non-winning product in October."""
    alerts.deliver(WinningProductListed(
        product_id="P1", batch_id="GY-2026", generic_name="阿托伐他汀钙片", dosage_form="片剂", specification="20mg*7片",
        manufacturer_id="M001", winning_unit_price=Decimal("10.0000"), trading_unit="盒", generic_group_id="G1",
        base_units_per_trading_unit=Decimal("7"),
    ))
    alerts.deliver(invoice())
    alerts.deliver(invoice("INV-2").model_copy(update={"institution_id": "H002"}))
    alerts.deliver(payment("PAY-1", date(2026, 10, 8), INV_1="10000.00"))
    alerts.deliver(accepted("A1", 10, date(2026, 10, 15)))
    alerts.deliver(bought("N1", 70, date(2026, 10, 20)))


def test_an_institution_s_month_gives_its_profile_s_indicators(alerts: Alerts) -> None:
    two_institutions(alerts)

    kpis = alerts.get("/institutions/H001/kpis?month=2026-10")

    assert (kpis["profile_id"], kpis["pooling_region_code"]) == ("guizhou-2020", "520100")
    assert [(x["indicator"], x["value"], x["numerator"], x["denominator"]) for x in kpis["indicators"]] == [
        ("volume_completion", None, "0", "0"),  # no contract: nothing to complete
        ("on_time_payment_rate", "1.0000", "1", "1"),
        ("non_winning_share", "0.5000", "70.0000", "140.0000"),
    ]
    september = alerts.get("/institutions/H001/kpis?month=2026-09")["indicators"]
    assert [x["value"] for x in september] == [None, None, None]


def test_institutions_are_ranked_and_regions_aggregated(alerts: Alerts, token: Callable[[str, Role], dict[str, str]]) -> None:
    two_institutions(alerts)

    ranked = alerts.get("/kpis?month=2026-10&indicator=on_time_payment_rate&order=desc&pooling_region_code=520100")
    assert [(r["rank"], r["institution_id"], r["value"]) for r in ranked] == [(1, "H001", "1.0000"), (2, "H002", "0.0000")]
    ascending = alerts.get("/kpis?month=2026-10&indicator=on_time_payment_rate&order=asc")
    assert [r["institution_id"] for r in ascending] == ["H002", "H001"]
    assert alerts.get("/kpis?month=2026-10&indicator=on_time_payment_rate&pooling_region_code=420100") == []

    [region] = alerts.get("/kpis/regions?month=2026-10&indicator=on_time_payment_rate")
    assert (region["pooling_region_code"], region["value"], region["numerator"], region["denominator"], region["institutions"]) == (
        "520100", "0.5000", "1", "2", 2,
    )

    bad = alerts.client.get("/kpis?month=2026-13&indicator=on_time_payment_rate", headers=alerts.headers)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert alerts.client.get("/kpis?month=2026-10&indicator=on_time_payment_rate", headers=token("H001", Role.INSTITUTION)).status_code == 403
    assert alerts.client.get("/institutions/H002/kpis?month=2026-10", headers=token("H001", Role.INSTITUTION)).status_code == 403


def filing(filing_id: str, amount: str, on: date) -> FilingPurchaseRecorded:
    return FilingPurchaseRecorded(
        filing_id=filing_id, institution_id="H009", pooling_region_code="500099", generic_name="某药", specification="10mg*10片",
        manufacturer_name="某厂", quantity=1, unit_price=Decimal(amount), amount=Decimal(amount), purchased_on=on, filed_on=on,
        reason="短缺",
    )


def test_filing_purchases_over_the_institution_s_warning_line_raise_one_decision(alerts: Alerts) -> None:
    """Liangjiang sets the line per institution (设置医疗机构药品备案采购金额预警线): none set, nothing decided."""
    alerts.deliver(filing("F1", "3000.00", date(2026, 3, 2)))
    assert not [k for k, _ in alerts.outbox() if k == LINE_EXCEEDED]

    response = alerts.client.put(
        "/institutions/H009/filing-warning-line", json={"amount": "5000.00", "from_year": 2026, "reason": "区医保局核定"},
        headers=alerts.headers,
    )
    assert response.status_code == 200, response.text
    alerts.deliver(filing("F2", "2000.00", date(2026, 5, 6)))
    assert not [k for k, _ in alerts.outbox() if k == LINE_EXCEEDED]  # 5000.00: equal is allowed
    alerts.deliver(filing("F3", "0.01", date(2026, 6, 1)))
    alerts.deliver(filing("F4", "100.00", date(2026, 7, 1)))

    [data] = [d for k, d in alerts.outbox() if k == LINE_EXCEEDED]
    assert (data["decision_id"], data["exceeded_on"], data["filing_amount"], data["warning_line"], data["profile_id"]) == (
        "filing-warning-H009-2026", "2026-06-01", "5000.01", "5000.00", "chongqing-liangjiang-2023",
    )
    [warning] = alerts.get("/institutions/H009/filing-warnings")
    assert (warning["line_source"], len(warning["caused_by"])) == ("institution", 4)  # the line and F1..F3
    [june] = alerts.get("/institutions/H009/kpis?month=2026-06")["indicators"][-1:]
    assert (june["indicator"], june["value"], june["year_to_date"], june["warning_line"]) == (
        "filing_purchase_amount", "0.01", "5000.01", "5000.00",
    )

    why = alerts.get(f"/decisions/{data['decision_id']}")
    assert (why["kind"], why["effective_on"], why["evaluation"]["line_source"]) == ("filing_warning_line_exceeded", "2026-06-01", "institution")
    assert why["parameters"]["filing_purchase"]["warning_line_enabled"] is True
    assert [c["type"] for c in why["causes"]][1:] == ["cn.jicai.orders.FilingPurchaseRecorded.v1"] * 3  # after the line set
