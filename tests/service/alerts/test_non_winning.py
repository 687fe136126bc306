"""R4 non-winning purchases (非中选) on real PostgreSQL: winning products, acceptances and purchases in
through the real consumer path, decisions out through the outbox, the API and the metrics.

Guizhou (贵阳市 520100), month of 2026-10: winning product P1 of group G1 is a box of 7 片;
100 boxes accepted = 700 片. Guizhou 2020 caps non-winning 片 at 1 × the winning ones.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from jicai_events.catalog import DeliveryAccepted, PurchaseRecorded, WinningProductListed
from jicai_kit.auth import Role
from tests.service.alerts.test_flow import Alerts, alerts

__all__ = ["alerts"]

EXCEEDED = "cn.jicai.alerts.NonWinningPurchaseCapExceeded.v1"


def product(product_id: str = "P1", group: str | None = "G1", factor: str | None = "7") -> WinningProductListed:
    return WinningProductListed(
        product_id=product_id, batch_id="GY-2026", generic_name="阿托伐他汀钙片", dosage_form="片剂", specification="20mg*7片",
        manufacturer_id="M001", winning_unit_price=Decimal("10.0000"), trading_unit="盒", generic_group_id=group,
        base_units_per_trading_unit=Decimal(factor) if factor else None,
    )


def accepted(acceptance_id: str, boxes: int, on: date, product_id: str = "P1") -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=acceptance_id, external_id=f"HIS-{acceptance_id}", institution_id="H001", pooling_region_code="520100",
        contract_id="C1", product_id=product_id, distributor_id="D001", accepted_quantity=boxes, rejected_quantity=0,
        accepted_on=on, lot_number="L1", unit_price=Decimal("10.0000"), accepted_amount=Decimal(boxes * 10).quantize(Decimal("0.01")),
    )


def bought(purchase_id: str, base_units: int, on: date, winning: bool = False, region: str | None = "520100") -> PurchaseRecorded:
    boxes = base_units // 7
    return PurchaseRecorded(
        purchase_id=purchase_id, external_id=f"HIS-{purchase_id}", institution_id="H001", pooling_region_code=region,
        product_id="NW1", generic_group_id="G1", winning=winning, channel="platform", quantity=boxes,
        base_units=Decimal(base_units), unit_price=Decimal("12.0000"), amount=Decimal(boxes * 12).quantize(Decimal("0.01")),
        purchased_on=on,
    )


def exceeded(alerts: Alerts) -> list[dict[str, object]]:
    return [data for kind, data in alerts.outbox() if kind == EXCEEDED]


def test_more_non_winning_than_winning_base_units_in_october_is_an_alert(alerts: Alerts) -> None:
    alerts.deliver(product())
    alerts.deliver(accepted("A1", 100, date(2026, 10, 5)))
    _, purchase = alerts.deliver(bought("B1", 707, date(2026, 10, 9)))
    alerts.deliver(bought("W1", 7000, date(2026, 10, 9), winning=True))  # a winning purchase is not non-winning

    alerts.close_days(date(2026, 10, 30), date(2026, 10, 30))
    assert exceeded(alerts) == []
    [day] = alerts.close_days(date(2026, 10, 31), date(2026, 10, 31))

    [data] = exceeded(alerts)
    assert (data["decision_id"], data["month"], data["winning_base_units"], data["non_winning_base_units"], data["cap_ratio"]) == (
        "non-winning-H001-G1-2026-10", "2026-10", "700.0000", "707.0000", "1",
    )
    assert (data["profile_id"], data["profile_version"], data["caused_by"]) == ("guizhou-2020", 1, [day.id, purchase.id])
    [month] = alerts.get("/institutions/H001/non-winning")["months"]
    [group] = month["groups"]
    assert (month["month"], group["ratio"], group["exceeded"], group["decision_id"]) == (
        "2026-10", "1.0100", True, "non-winning-H001-G1-2026-10",
    )
    assert "jicai_non_winning_cap_exceeded 1.0" in alerts.client.get("/metrics").text


def test_equal_is_allowed_and_products_without_a_group_do_not_count(alerts: Alerts) -> None:
    alerts.deliver(product())
    alerts.deliver(product("P2", group=None, factor=None))
    alerts.deliver(accepted("A1", 100, date(2026, 10, 5)))
    alerts.deliver(accepted("A2", 1000, date(2026, 10, 5), "P2"))
    alerts.deliver(bought("B1", 700, date(2026, 10, 9)))

    alerts.close_days(date(2026, 10, 31), date(2026, 10, 31))

    assert exceeded(alerts) == []
    [month] = alerts.get("/institutions/H001/non-winning")["months"]
    assert [(g["winning_base_units"], g["non_winning_base_units"], g["exceeded"]) for g in month["groups"]] == [
        ("700.0000", "700.0000", False),
    ]


def test_one_day_close_far_ahead_decides_every_month_and_redelivery_changes_nothing(alerts: Alerts) -> None:
    envelopes = [alerts.deliver(product())[1]]
    envelopes.append(alerts.deliver(accepted("A1", 10, date(2026, 10, 5)))[1])
    envelopes.append(alerts.deliver(bought("B1", 100, date(2026, 10, 9)))[1])
    envelopes.append(alerts.deliver(bought("B2", 7, date(2026, 11, 9), region=None))[1])
    envelopes += alerts.close_days(date(2026, 12, 15), date(2026, 12, 15))
    before = (alerts.get("/institutions/H001/non-winning"), alerts.outbox())

    assert [d["decision_id"] for d in exceeded(alerts)] == ["non-winning-H001-G1-2026-10", "non-winning-H001-G1-2026-11"]
    assert {alerts.deliver(envelope)[0] for envelope in envelopes} == {"duplicate"}
    assert alerts.deliver(bought("B1", 100, date(2026, 10, 9)))[0] == "handled"  # republished under a new envelope id
    assert alerts.deliver(accepted("A1", 10, date(2026, 10, 5)))[0] == "handled"
    alerts.close_days(date(2026, 12, 16), date(2026, 12, 31))

    assert (alerts.get("/institutions/H001/non-winning"), alerts.outbox()) == before


def test_only_the_institution_and_staff_may_read(alerts: Alerts, token: Callable[[str, Role], dict[str, str]]) -> None:
    assert alerts.client.get("/institutions/H001/non-winning", headers=token("H002", Role.INSTITUTION)).status_code == 403
    own = alerts.get("/institutions/H001/non-winning", headers=token("H001", Role.INSTITUTION))
    assert own == {"institution_id": "H001", "next_month_end": None, "months": []}


def test_a_region_without_a_profile_blocks_the_institution_until_one_applies(alerts: Alerts) -> None:
    alerts.deliver(bought("B1", 7, date(2026, 10, 9), region="110100"))  # Beijing: no profile assigned

    alerts.close_days(date(2026, 10, 31), date(2026, 11, 1))

    [blocked] = alerts.get("/blocked-decisions")
    assert (blocked["invoice_id"], blocked["institution_id"]) == ("non-winning-H001", "H001")
    assert "NoProfileForRegion" in blocked["reason"]
    assert (blocked["first_blocked_on"], blocked["last_tried_on"]) == ("2026-10-31", "2026-11-01")
    assert exceeded(alerts) == [] and alerts.get("/institutions/H001/non-winning")["next_month_end"] == "2026-10-31"


def test_a_cap_decision_explains_base_units_cap_and_purchases(alerts: Alerts) -> None:
    alerts.deliver(product())
    alerts.deliver(accepted("A1", 100, date(2026, 10, 5)))
    _, purchase = alerts.deliver(bought("B1", 707, date(2026, 10, 9)))
    [day] = alerts.close_days(date(2026, 10, 31), date(2026, 10, 31))

    why = alerts.get("/decisions/non-winning-H001-G1-2026-10")

    assert (why["kind"], why["effective_on"], why["event"]["type"]) == ("non_winning_cap_exceeded", "2026-10-31", EXCEEDED)
    assert why["parameters"]["non_winning_cap"]["max_ratio_to_winning"] == "1"
    evaluation = why["evaluation"]
    assert (evaluation["winning_base_units"], evaluation["non_winning_base_units"], evaluation["ratio"], evaluation["purchases_counted"]) == (
        "700.0000", "707.0000", "1.0100", 1,
    )
    assert [(c["id"], c["type"], c["subject"]) for c in why["causes"]] == [
        (day.id, "cn.jicai.clock.DayClosed.v1", "2026-10-31"), (purchase.id, "cn.jicai.orders.PurchaseRecorded.v1", "B1"),
    ]
