"""Order decisions (订单): placing against contracts, the lifecycle steps and the status an order shows."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_events.rules import Conflict, RuleViolated
from jicai_orders.domain import order
from jicai_orders.domain.contract import ContractView
from jicai_orders.domain.events import OrderEvent, OrderPlaced


def _contract(contract_id: str, institution_id: str = "H1", distributor_id: str = "D1", price: str = "2.0050") -> ContractView:
    return ContractView(
        contract_id=contract_id, institution_id=institution_id, pooling_region_code="520100", distributor_id=distributor_id,
        manufacturer_id="M1", product_id=f"P-{contract_id}", unit_price=Decimal(price), agreed_quantity=1200,
        cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31),
    )


CONTRACTS = {c.contract_id: c for c in (_contract("C1"), _contract("C2", price="12.3456"), _contract("C3", distributor_id="D2"),
                                       _contract("C9", institution_id="H2"))}


def _cmd(*lines: order.OrderLine, placed_on: date = date(2026, 3, 2)) -> order.PlaceOrder:
    return order.PlaceOrder("O1", "H1", placed_on, lines or (order.OrderLine("C1", 5),))


def _placed() -> list[OrderEvent]:
    return order.place([], _cmd(order.OrderLine("C1", 5), order.OrderLine("C2", 3)), CONTRACTS)


def test_an_order_is_priced_at_each_contracts_winning_price_and_goes_to_its_distributor() -> None:
    [placed] = _placed()
    assert isinstance(placed, OrderPlaced)
    assert placed.distributor_id == "D1" and placed.pooling_region_code == "520100"
    assert [(x.product_id, x.unit_price, x.amount) for x in placed.lines] == [
        ("P-C1", Decimal("2.0050"), Decimal("10.03")), ("P-C2", Decimal("12.3456"), Decimal("37.04")),
    ]
    assert placed.amount == Decimal("47.07")


def test_placing_the_same_order_again_records_nothing_and_other_content_conflicts() -> None:
    history = _placed()
    assert order.place(history, _cmd(order.OrderLine("C1", 5), order.OrderLine("C2", 3, "P-C2", Decimal("12.3456"))), CONTRACTS) == []
    with pytest.raises(Conflict):
        order.place(history, _cmd(order.OrderLine("C1", 6), order.OrderLine("C2", 3)), CONTRACTS)


@pytest.mark.parametrize(
    ("line", "field", "says"),
    [
        # Chongqing 004 §二(四): the winning price is not re-bargained; a line must be the contract's product at that price.
        (order.OrderLine("C1", 5, product_id="P-OTHER"), "lines[0].product_id", "product_id P-OTHER is not the product P-C1 of contract C1"),
        (order.OrderLine("C1", 5, unit_price=Decimal("1.9000")), "lines[0].unit_price",
         "unit_price 1.9000 is not the winning price 2.0050 of contract C1"),
        (order.OrderLine("C404", 5), "lines[0].contract_id", "not known to orders"),
        (order.OrderLine("C9", 5), "lines[0].contract_id", "not a contract of institution H1"),
    ],
)
def test_a_line_that_does_not_match_its_contract_is_refused_naming_the_field_and_both_values(
    line: order.OrderLine, field: str, says: str
) -> None:
    with pytest.raises(RuleViolated) as refused:
        order.place([], _cmd(line), CONTRACTS)
    assert refused.value.field == field and says in refused.value.reason


def test_one_order_goes_to_one_distributor_and_names_each_contract_once() -> None:
    with pytest.raises(RuleViolated, match="different distributors"):
        order.place([], _cmd(order.OrderLine("C1", 5), order.OrderLine("C3", 1)), CONTRACTS)
    with pytest.raises(RuleViolated) as twice:
        order.place([], _cmd(order.OrderLine("C1", 5), order.OrderLine("C1", 1)), CONTRACTS)
    assert twice.value.field == "lines[1].contract_id"


def test_an_order_outside_the_contract_cycle_is_refused() -> None:
    with pytest.raises(RuleViolated) as refused:
        order.place([], _cmd(placed_on=date(2027, 1, 4)), CONTRACTS)
    assert refused.value.field == "placed_on"


def test_placed_then_confirmed_then_shipped_each_step_once() -> None:
    history = _placed()
    history += order.confirm(history, "O1", date(2026, 3, 3))
    assert order.lifecycle(history) is order.Status.CONFIRMED
    assert order.confirm(history, "O1", date(2026, 3, 3)) == []
    with pytest.raises(Conflict, match="confirmed on 2026-03-03 already"):
        order.confirm(history, "O1", date(2026, 3, 4))
    history += order.ship(history, "O1", date(2026, 3, 4))
    assert order.lifecycle(history) is order.Status.SHIPPED
    assert order.ship(history, "O1", date(2026, 3, 4)) == []


def test_an_order_ships_only_once_confirmed_and_not_before_its_confirmation() -> None:
    history = _placed()
    with pytest.raises(Conflict, match="not confirmed yet"):
        order.ship(history, "O1", date(2026, 3, 4))
    history += order.confirm(history, "O1", date(2026, 3, 5))
    with pytest.raises(RuleViolated) as early:
        order.ship(history, "O1", date(2026, 3, 4))
    assert early.value.field == "shipped_on"


def test_an_order_can_be_cancelled_until_it_is_shipped_and_not_after() -> None:
    confirmed = _placed()
    confirmed += order.confirm(confirmed, "O1", date(2026, 3, 3))
    cancelled = confirmed + order.cancel(confirmed, "O1", date(2026, 3, 3), "库存充足")
    assert order.lifecycle(cancelled) is order.Status.CANCELLED
    assert order.cancel(cancelled, "O1", date(2026, 3, 3), "库存充足") == []
    with pytest.raises(Conflict, match="cancelled"):
        order.ship(cancelled, "O1", date(2026, 3, 4))
    shipped = confirmed + order.ship(confirmed, "O1", date(2026, 3, 4))
    with pytest.raises(Conflict, match="shipped order cannot be cancelled"):
        order.cancel(shipped, "O1", date(2026, 3, 5), "不要了")


@pytest.mark.parametrize(
    ("stage", "lines", "shows"),
    [
        (order.Status.CONFIRMED, [order.Delivered(5, 0, 0)], order.Status.CONFIRMED),
        (order.Status.SHIPPED, [order.Delivered(5, 0, 0), order.Delivered(3, 0, 0)], order.Status.SHIPPED),
        (order.Status.SHIPPED, [order.Delivered(5, 4, 0), order.Delivered(3, 0, 0)], order.Status.PARTLY_DELIVERED),
        (order.Status.SHIPPED, [order.Delivered(5, 4, 1), order.Delivered(3, 3, 0)], order.Status.DELIVERED),
        (order.Status.CANCELLED, [order.Delivered(5, 0, 0)], order.Status.CANCELLED),
    ],
)
def test_a_shipped_order_shows_how_much_has_arrived(stage: order.Status, lines: list[order.Delivered], shows: order.Status) -> None:
    assert order.status(stage, lines) is shows
