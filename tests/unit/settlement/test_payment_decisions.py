"""Payment (回款) rules: given invoices / when a payment / then events or a refusal naming the field."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_settlement.domain import invoice
from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import InvoicePaymentApplied, InvoiceRecorded, PaymentRecorded
from jicai_settlement.domain.invoice import InvoiceView
from jicai_settlement.domain.payment import AllocationIn, RecordPayment, record


def _invoice(invoice_id: str = "INV-1", amount: str = "500.00", paid: str = "0.00", institution: str = "H1",
             distributor: str = "D1") -> InvoiceView:
    return InvoiceView(invoice_id, institution, distributor, Decimal(amount), date(2026, 3, 2), Decimal(paid))


def _pay(*allocations: tuple[str, str], amount: str | None = None, payment_id: str = "PAY-1") -> RecordPayment:
    total = amount if amount is not None else str(sum(Decimal(a) for _, a in allocations))
    return RecordPayment(
        payment_id=payment_id, institution_id="H1", distributor_id="D1", paid_on=date(2026, 3, 20),
        amount=Decimal(total), allocations=tuple(AllocationIn(i, Decimal(a)) for i, a in allocations),
    )


def _refusal(cmd: RecordPayment, *invoices: InvoiceView | None) -> DomainRuleViolated:
    views = {v.invoice_id: v for v in invoices if v is not None}
    with pytest.raises(DomainRuleViolated) as err:
        record([], cmd, {a.invoice_id: views.get(a.invoice_id) for a in cmd.allocations})
    return err.value


def test_a_partial_payment_records_the_payment_and_reduces_what_the_invoice_owes() -> None:
    events = record([], _pay(("INV-1", "300.00")), {"INV-1": _invoice()})
    assert [type(e) for e in events] == [PaymentRecorded, InvoicePaymentApplied]
    history = [InvoiceRecorded(invoice_id="INV-1", institution_id="H1", distributor_id="D1", amount=Decimal("500.00"),
                               received_on=date(2026, 3, 2), pooling_region_code="370100"), events[1]]
    view = invoice.fold(history)  # type: ignore[arg-type]
    assert view is not None and (view.paid, view.outstanding) == (Decimal("300.00"), Decimal("200.00"))


def test_one_payment_can_pay_several_invoices() -> None:
    invoices = {"INV-1": _invoice(), "INV-2": _invoice("INV-2", "100.00")}
    events = record([], _pay(("INV-1", "500.00"), ("INV-2", "80.50")), invoices)
    applied = {e.invoice_id: e.amount for e in events if isinstance(e, InvoicePaymentApplied)}
    assert applied == {"INV-1": Decimal("500.00"), "INV-2": Decimal("80.50")}
    assert events[0].amount == Decimal("580.50")


def test_paying_more_than_is_outstanding_is_refused_showing_the_outstanding_amount() -> None:
    err = _refusal(_pay(("INV-1", "10.00"), ("INV-2", "250.00")), _invoice(), _invoice("INV-2", "500.00", paid="300.00"))
    assert err.field == "allocations[1].amount"
    assert "outstanding 200.00" in err.reason


def test_paying_exactly_what_is_outstanding_settles_the_invoice() -> None:
    events = record([], _pay(("INV-1", "200.00")), {"INV-1": _invoice(paid="300.00")})
    assert len(events) == 2


def test_allocations_must_add_up_to_the_payment_amount() -> None:
    err = _refusal(_pay(("INV-1", "100.00"), amount="150.00"), _invoice())
    assert err.field == "allocations" and "100.00" in err.reason and "150.00" in err.reason


def test_an_invoice_settlement_has_not_received_is_unknown() -> None:
    err = _refusal(_pay(("INV-1", "100.00"), ("INV-404", "1.00")), _invoice(), None)
    assert err.field == "allocations[1].invoice_id" and "not received" in err.reason


def test_another_institutions_invoice_is_refused() -> None:
    err = _refusal(_pay(("INV-9", "1.00")), _invoice("INV-9", institution="H2"))
    assert err.field == "allocations[0].invoice_id" and "not an invoice of institution H1" in err.reason


def test_another_distributors_invoice_is_refused() -> None:
    err = _refusal(_pay(("INV-1", "1.00")), _invoice(distributor="D2"))
    assert err.field == "allocations[0].invoice_id" and "D2" in err.reason


def test_the_same_invoice_twice_in_one_payment_is_refused() -> None:
    err = _refusal(_pay(("INV-1", "100.00"), ("INV-1", "100.00")), _invoice())
    assert err.field == "allocations[1].invoice_id"


@pytest.mark.parametrize(("cmd", "field"), [
    (_pay(("INV-1", "0.00")), "amount"),
    (_pay(("INV-1", "0.00"), ("INV-2", "5.00")), "allocations[0].amount"),
])
def test_nothing_is_paid_with_zero(cmd: RecordPayment, field: str) -> None:
    assert _refusal(cmd, _invoice(), _invoice("INV-2")).field == field


def test_an_identical_retry_records_nothing_and_other_content_conflicts() -> None:
    cmd = _pay(("INV-1", "500.00"))
    history = [e for e in record([], cmd, {"INV-1": _invoice()}) if isinstance(e, PaymentRecorded)]
    # by now the invoice is paid in full: the retry must not be mistaken for an overpayment
    assert record(history, cmd, {"INV-1": _invoice(paid="500.00")}) == []
    with pytest.raises(AlreadyExists):
        record(history, _pay(("INV-1", "400.00")), {"INV-1": _invoice(paid="500.00")})


def test_an_invoice_received_twice_is_recorded_once() -> None:
    received = InvoiceRecorded(invoice_id="INV-1", institution_id="H1", distributor_id="D1", amount=Decimal("500.00"),
                               received_on=date(2026, 3, 2), pooling_region_code="370100")
    assert invoice.receive([], received) == [received]
    assert invoice.receive([received], received) == []
    with pytest.raises(AlreadyExists):
        invoice.receive([received], received.model_copy(update={"amount": Decimal("1.00")}))
