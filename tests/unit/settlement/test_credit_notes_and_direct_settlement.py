"""红冲 (credit notes, voids) on what an invoice asks for, and direct settlement (直接结算) per profile."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_policy import load_policy_book
from jicai_settlement.domain import invoice
from jicai_settlement.domain.errors import DomainRuleViolated
from jicai_settlement.domain.events import (
    DirectSettlementDeducted,
    InvoiceCreditApplied,
    InvoiceEvent,
    InvoicePaymentApplied,
    InvoiceRecorded,
    InvoiceVoidRecorded,
)
from jicai_settlement.domain.institution_settlement import deduct
from jicai_settlement.domain.payment import AllocationIn, RecordPayment, direct_settlement, record

BOOK = load_policy_book(calendar_overrides=())
RECEIVED = InvoiceRecorded(invoice_id="INV-1", institution_id="H1", distributor_id="D1", amount=Decimal("500.00"),
                           received_on=date(2026, 3, 2), pooling_region_code="370100")


def _credit(credit_note_id: str, after: str) -> InvoiceCreditApplied:
    return InvoiceCreditApplied(invoice_id="INV-1", credit_note_id=credit_note_id, credit_note_number=f"No.{credit_note_id}",
                                amount=Decimal("1.00"), amount_after=Decimal(after), received_on=date(2026, 3, 10), reason="price")


def _paid(amount: str) -> InvoicePaymentApplied:
    return InvoicePaymentApplied(invoice_id="INV-1", payment_id="PAY-1", amount=Decimal(amount), paid_on=date(2026, 3, 5))


VOID = InvoiceVoidRecorded(invoice_id="INV-1", voided_on=date(2026, 3, 12), reason="wrong institution")


@pytest.mark.parametrize(("history", "due", "outstanding", "refundable"), [
    ([RECEIVED], "500.00", "500.00", "0.00"),
    ([RECEIVED, _credit("CN-1", "400.00")], "400.00", "400.00", "0.00"),
    ([RECEIVED, _paid("300.00"), _credit("CN-1", "400.00"), _credit("CN-2", "250.00")], "250.00", "0.00", "50.00"),
    ([RECEIVED, _paid("300.00"), VOID], "0.00", "0.00", "300.00"),
])
def test_what_an_invoice_asks_for_after_credit_notes_and_voids(
    history: list[InvoiceEvent], due: str, outstanding: str, refundable: str
) -> None:
    view = invoice.fold(history)
    assert view is not None
    assert (view.due, view.outstanding, view.refundable_credit) == (Decimal(due), Decimal(outstanding), Decimal(refundable))


def test_a_credit_note_is_applied_once_and_must_lower_what_is_asked() -> None:
    [applied] = invoice.credit([RECEIVED], _credit("CN-1", "400.00"))
    assert invoice.credit([RECEIVED, applied], _credit("CN-1", "400.00")) == []
    with pytest.raises(DomainRuleViolated, match="must be below"):
        invoice.credit([RECEIVED, applied], _credit("CN-2", "450.00"))
    assert invoice.void([RECEIVED, VOID], VOID) == []
    with pytest.raises(DomainRuleViolated, match="unknown"):
        invoice.void([], VOID)


def _view(region: str) -> invoice.InvoiceView:
    view = invoice.fold([RECEIVED.model_copy(update={"pooling_region_code": region})])
    assert view is not None
    return view


@pytest.mark.parametrize(("region", "allowed"), [
    ("370100", True),  # Shandong 001 §五: 加快推进…直接结算药款
    ("420100", True),  # Hubei 003 §四(三): 有条件的地方，医保基金可与企业直接结算
    ("500000", False),  # Chongqing 004 §二(七): 条件成熟时探索试点 (exploratory)
    ("520100", False),  # Guizhou 000: no direct settlement
    ("500099", False),  # Liangjiang 002: no direct settlement
])
def test_direct_settlement_follows_the_profile(region: str, allowed: bool) -> None:
    cmd = RecordPayment(payment_id="DS-1", institution_id="H1", distributor_id="D1", paid_on=date(2026, 5, 20),
                        amount=Decimal("100.00"), allocations=(AllocationIn("INV-1", Decimal("100.00")),), payer="insurance_fund")
    if allowed:
        [payment, _] = record([], cmd, {"INV-1": _view(region)}, BOOK.profile_for)
        assert payment.payer == "insurance_fund"  # type: ignore[union-attr]
        assert direct_settlement("x", _view(region), date(2026, 5, 20), BOOK.profile_for).deduct_from_institution_settlement
    else:
        with pytest.raises(DomainRuleViolated, match="直接结算") as refused:
            record([], cmd, {"INV-1": _view(region)}, BOOK.profile_for)
        assert refused.value.field == "allocations[0].invoice_id"


def test_a_direct_settlement_is_deducted_once() -> None:
    deducted = DirectSettlementDeducted(institution_id="H1", payment_id="DS-1", distributor_id="D1", month="2026-05",
                                        paid_on=date(2026, 5, 20), amount=Decimal("100.00"))
    assert deduct([], deducted) == [deducted]
    assert deduct([deducted], deducted) == []
