"""An acceptance line that states a product or price other than its contract's, or names an order it cannot fill, is rejected."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from jicai_orders.domain.acceptance import AcceptanceLine, Accepted, Duplicate, Rejected, accept
from jicai_orders.domain.contract import ContractView
from jicai_orders.domain.order import OrderView

CONTRACT = ContractView(
    contract_id="C1", institution_id="H1", pooling_region_code="520100", distributor_id="D1", manufacturer_id="M1",
    product_id="P1", unit_price=Decimal("2.0050"), agreed_quantity=1200, cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31),
)
LINE = AcceptanceLine(
    external_id="RK-1", contract_id="C1", accepted_quantity=5, rejected_quantity=0, rejection_reason=None,
    accepted_on=date(2026, 3, 2), lot_number="L1",
)
SHIPPED = OrderView("O1", "H1", "shipped", frozenset({"C1"}))


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        # Chongqing 004 §二(四): deliveries at the contract's winning price, of its product.
        ({"product_id": "P2"}, "product_id P2 is not the product P1 of contract C1"),
        ({"unit_price": Decimal("1.9900")}, "unit_price 1.9900 is not the winning price 2.0050 of contract C1"),
    ],
)
def test_a_stated_product_or_price_other_than_the_contracts_is_rejected_naming_both(changes: dict[str, object], reason: str) -> None:
    assert accept([], "H1", replace(LINE, **changes), CONTRACT) == Rejected(reason)  # type: ignore[arg-type]


def test_stating_the_contracts_own_product_and_price_is_accepted_and_a_retry_without_them_is_a_duplicate() -> None:
    decision = accept([], "H1", replace(LINE, product_id="P1", unit_price=Decimal("2.005")), CONTRACT)
    assert isinstance(decision, Accepted)
    assert accept([decision.event], "H1", LINE, CONTRACT) == Duplicate("H1:RK-1")
    assert accept([decision.event], "H1", replace(LINE, unit_price=Decimal("2.0050")), CONTRACT) == Duplicate("H1:RK-1")
    assert isinstance(accept([decision.event], "H1", replace(LINE, unit_price=Decimal("2.0")), CONTRACT), Rejected)


@pytest.mark.parametrize(
    ("order", "says"),
    [
        (None, "order O1 is not an order of institution H1"),
        (OrderView("O1", "H2", "shipped", frozenset({"C1"})), "order O1 is not an order of institution H1"),
        (OrderView("O1", "H1", "shipped", frozenset({"C7"})), "order O1 has no line for contract C1"),
        (OrderView("O1", "H1", "confirmed", frozenset({"C1"})), "order O1 is confirmed, not shipped yet"),
        (OrderView("O1", "H1", "cancelled", frozenset({"C1"})), "order O1 is cancelled"),
    ],
)
def test_a_line_naming_an_order_it_cannot_fill_is_rejected(order: OrderView | None, says: str) -> None:
    decision = accept([], "H1", replace(LINE, order_id="O1"), CONTRACT, order)
    assert isinstance(decision, Rejected) and says in decision.reason


def test_a_line_naming_a_shipped_order_of_the_institution_is_linked_to_it() -> None:
    decision = accept([], "H1", replace(LINE, order_id="O1"), CONTRACT, SHIPPED)
    assert isinstance(decision, Accepted) and decision.event.order_id == "O1"
