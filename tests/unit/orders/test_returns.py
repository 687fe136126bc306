"""Returns (退货): at most accepted − already returned, not before the acceptance, once per return id; invoices bill accepted − returned."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from jicai_events.rules import Conflict, RuleViolated
from jicai_orders.domain.invoice import AcceptanceView, InvoiceLine, ReceiveInvoice, receive
from jicai_orders.domain.returns import ReturnDelivery, give_back

ACCEPTED = AcceptanceView(
    acceptance_id="H1:A1", institution_id="H1", distributor_id="D1", contract_id="C1", pooling_region_code="520100",
    accepted_quantity=10, invoiced_quantity=0, unit_price=Decimal("2.0050"), accepted_on=date(2026, 3, 2),
    returned_quantity=0, product_id="P1",
)
RETURN = ReturnDelivery("R1", "H1:A1", 3, date(2026, 3, 9), "近效期")


def test_a_return_is_priced_at_the_acceptances_unit_price() -> None:
    [event] = give_back([], RETURN, ACCEPTED)
    assert (event.returned_quantity, event.returned_amount, event.product_id, event.contract_id) == (3, Decimal("6.02"), "P1", "C1")


def test_the_same_return_again_records_nothing_and_other_content_conflicts() -> None:
    history = give_back([], RETURN, ACCEPTED)
    assert give_back(history, RETURN, replace(ACCEPTED, returned_quantity=3)) == []
    with pytest.raises(Conflict):
        give_back(history, replace(RETURN, quantity=4), replace(ACCEPTED, returned_quantity=3))


@pytest.mark.parametrize(
    ("returned_before", "quantity", "ok"),
    [(0, 10, True), (0, 11, False), (7, 3, True), (7, 4, False), (10, 1, False)],
)
def test_no_more_than_accepted_minus_already_returned_can_be_returned(returned_before: int, quantity: int, ok: bool) -> None:
    view = replace(ACCEPTED, returned_quantity=returned_before)
    if ok:
        assert give_back([], replace(RETURN, quantity=quantity), view)
    else:
        with pytest.raises(RuleViolated) as refused:
            give_back([], replace(RETURN, quantity=quantity), view)
        assert refused.value.field == "returned_quantity"
        assert f"has {10 - returned_before} of 10 accepted units not yet returned" in refused.value.reason


def test_a_return_cannot_precede_the_acceptance() -> None:
    with pytest.raises(RuleViolated) as refused:
        give_back([], replace(RETURN, returned_on=date(2026, 3, 1)), ACCEPTED)
    assert refused.value.field == "returned_on"


def test_an_invoice_cannot_bill_returned_units() -> None:
    view = replace(ACCEPTED, returned_quantity=3)
    cmd = ReceiveInvoice("I1", "No.1", "D1", "H1", date(2026, 3, 10), date(2026, 3, 12), Decimal("16.04"), (InvoiceLine("H1:A1", 8),))
    with pytest.raises(RuleViolated) as refused:
        receive([], cmd, {"H1:A1": view})
    assert "has 7 of 10 accepted units (3 returned) not yet invoiced; this invoice bills 8" in refused.value.reason
    assert receive([], replace(cmd, amount=Decimal("14.04"), lines=(InvoiceLine("H1:A1", 7),)), {"H1:A1": view})
