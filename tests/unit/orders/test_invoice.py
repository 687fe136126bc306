"""Invoice matching (given acceptances and the invoice stream / when an invoice / then InvoiceRecorded or a refusal)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from jicai_orders.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_orders.domain.invoice import AcceptanceView, AmountMismatch, InvoiceLine, ReceiveInvoice, receive


def _view(acceptance_id: str, **changes: object) -> AcceptanceView:
    values: dict[str, object] = dict(
        acceptance_id=acceptance_id, institution_id="H1", distributor_id="D1", contract_id="C1", pooling_region_code="520100",
        accepted_quantity=10, invoiced_quantity=0, unit_price=Decimal("1.9850"), accepted_on=date(2026, 3, 2),
    )
    values.update(changes)
    return AcceptanceView(**values)  # type: ignore[arg-type]


ACCEPTED: Mapping[str, AcceptanceView] = {
    "H1:A1": _view("H1:A1"),
    "H1:A2": _view("H1:A2", contract_id="C2", unit_price=Decimal("12.3456"), accepted_quantity=4, accepted_on=date(2026, 3, 9)),
    "H2:A1": _view("H2:A1", institution_id="H2"),
    "H1:A3": _view("H1:A3", distributor_id="D2"),
}


def _invoice(**changes: object) -> ReceiveInvoice:
    # 3 × 1.9850 = 5.955 → 5.96; 4 × 12.3456 = 49.3824 → 49.38; total 55.34
    values: dict[str, object] = dict(
        invoice_id="INV-1", invoice_number="No.00012345", distributor_id="D1", institution_id="H1",
        issued_on=date(2026, 3, 10), received_on=date(2026, 3, 12), amount=Decimal("55.34"),
        lines=(InvoiceLine("H1:A1", 3), InvoiceLine("H1:A2", 4)),
    )
    values.update(changes)
    return ReceiveInvoice(**values)  # type: ignore[arg-type]


def _refusal(cmd: ReceiveInvoice, accepted: Mapping[str, AcceptanceView] = ACCEPTED) -> DomainRuleViolated:
    with pytest.raises(DomainRuleViolated) as err:
        receive([], cmd, accepted)
    return err.value


def test_a_matching_invoice_is_recorded_with_priced_lines_and_the_latest_acceptance_date() -> None:
    [event] = receive([], _invoice(), ACCEPTED)
    assert event.amount == Decimal("55.34") and event.pooling_region_code == "520100"
    assert [(line.acceptance_id, line.contract_id, line.quantity, line.amount) for line in event.lines] == [
        ("H1:A1", "C1", 3, Decimal("5.96")), ("H1:A2", "C2", 4, Decimal("49.38")),
    ]
    assert event.lines[1].unit_price == Decimal("12.3456") and event.lines[0].accepted_on == date(2026, 3, 2)
    assert event.latest_acceptance_on == date(2026, 3, 9)
    assert (event.issued_on, event.received_on) == (date(2026, 3, 10), date(2026, 3, 12))


def test_the_same_invoice_again_records_nothing() -> None:
    history = receive([], _invoice(), ACCEPTED)
    fully_invoiced = {k: replace(v, invoiced_quantity=v.accepted_quantity) for k, v in ACCEPTED.items()}
    assert receive(history, _invoice(), fully_invoiced) == []


@pytest.mark.parametrize(
    "changed", [{"amount": Decimal("55.35")}, {"invoice_number": "No.2"}, {"lines": (InvoiceLine("H1:A1", 3),)}]
)
def test_the_same_invoice_id_with_other_content_is_a_conflict(changed: dict[str, object]) -> None:
    history = receive([], _invoice(), ACCEPTED)
    with pytest.raises(AlreadyExists):
        receive(history, _invoice(**changed), ACCEPTED)


def test_an_amount_that_is_not_the_sum_of_the_lines_is_refused_with_the_difference() -> None:
    with pytest.raises(AmountMismatch) as err:
        receive([], _invoice(amount=Decimal("55.00")), ACCEPTED)
    assert err.value.field == "amount"
    assert err.value.expected_amount == Decimal("55.34") and err.value.difference == Decimal("-0.34")
    assert "55.34" in err.value.reason


def test_each_line_is_rounded_before_summing() -> None:
    # Two lines of 1 × 1.9850 = 1.985 → 1.99 each: 3.98, not round(2 × 1.985) = 3.97.
    lines = (InvoiceLine("H1:A1", 1), InvoiceLine("H1:A1", 1))
    [event] = receive([], _invoice(lines=lines, amount=Decimal("3.98")), ACCEPTED)
    assert event.amount == Decimal("3.98")
    with pytest.raises(AmountMismatch) as err:
        receive([], _invoice(lines=lines, amount=Decimal("3.97")), ACCEPTED)
    assert err.value.difference == Decimal("-0.01")


def test_an_unknown_acceptance_is_refused_naming_the_line() -> None:
    err = _refusal(_invoice(lines=(InvoiceLine("H1:A1", 3), InvoiceLine("H1:NOPE", 1))))
    assert err.field == "lines[1].acceptance_id"


def test_another_institutions_acceptance_is_refused() -> None:
    assert _refusal(_invoice(lines=(InvoiceLine("H2:A1", 1),), amount=Decimal("1.99"))).field == "lines[0].acceptance_id"


def test_another_distributors_delivery_is_refused() -> None:
    err = _refusal(_invoice(lines=(InvoiceLine("H1:A3", 1),), amount=Decimal("1.99")))
    assert err.field == "lines[0].acceptance_id" and "another distributor" in err.reason


def test_billing_more_than_was_accepted_is_refused() -> None:
    err = _refusal(_invoice(lines=(InvoiceLine("H1:A1", 11),), amount=Decimal("21.84")))
    assert err.field == "lines[0].quantity" and "10 of 10" in err.reason


def test_billing_what_other_invoices_billed_already_is_refused() -> None:
    partly = {**ACCEPTED, "H1:A1": replace(ACCEPTED["H1:A1"], invoiced_quantity=8)}
    [event] = receive([], _invoice(lines=(InvoiceLine("H1:A1", 2),), amount=Decimal("3.97")), partly)
    assert event.lines[0].quantity == 2
    err = _refusal(_invoice(lines=(InvoiceLine("H1:A1", 3),), amount=Decimal("5.96")), partly)
    assert err.field == "lines[0].quantity" and "2 of 10" in err.reason


def test_lines_naming_the_same_acceptance_add_up() -> None:
    err = _refusal(_invoice(lines=(InvoiceLine("H1:A1", 6), InvoiceLine("H1:A1", 5)), amount=Decimal("21.84")))
    assert err.field == "lines[1].quantity"


def test_a_zero_quantity_line_is_refused() -> None:
    assert _refusal(_invoice(lines=(InvoiceLine("H1:A1", 0),), amount=Decimal("0.00"))).field == "lines[0].quantity"


def test_an_invoice_cannot_be_received_before_it_is_issued() -> None:
    assert _refusal(_invoice(received_on=date(2026, 3, 9))).field == "received_on"
    [event] = receive([], _invoice(received_on=date(2026, 3, 10)), ACCEPTED)
    assert event.received_on == event.issued_on


def test_lines_from_different_pooling_regions_are_refused() -> None:
    moved = {**ACCEPTED, "H1:A2": replace(ACCEPTED["H1:A2"], pooling_region_code="520200")}
    assert _refusal(_invoice(), moved).field == "lines"
