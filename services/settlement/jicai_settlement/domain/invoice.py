"""Invoices as settlement sees them: what is owed, what was paid (R1: partial payment reduces what is owed).

The invoice is received from the orders service; settlement adds the
payments applied to it. Its stream is the guard against overpayment: every
payment appends to the stream of each invoice it pays, at the version it
decided on.

红冲 (credit notes and voids, from the orders service): what the invoice asks
for drops to the credit note's ``invoice_amount_after`` (a void: to 0), and
payments are checked against that. Payments made before the credit that now
exceed it are shown as a refundable credit (待退款); settlement does not
invent a refund flow.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    InvoiceCreditApplied,
    InvoiceEvent,
    InvoicePaymentApplied,
    InvoiceRecorded,
    InvoiceVoidRecorded,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class InvoiceView:
    """The state a payment decision needs about one invoice."""

    invoice_id: str
    institution_id: str
    distributor_id: str
    amount: Decimal
    received_on: date
    paid: Decimal = ZERO
    amount_due: Decimal | None = None
    """What the invoice asks for after credit notes and voids; None: the invoice amount."""
    voided_on: date | None = None
    credit_notes: tuple[InvoiceCreditApplied, ...] = ()
    pooling_region_code: str | None = None

    @property
    def due(self) -> Decimal:
        return self.amount if self.amount_due is None else self.amount_due

    @property
    def outstanding(self) -> Decimal:
        return max(self.due - self.paid, ZERO)

    @property
    def refundable_credit(self) -> Decimal:
        """Paid beyond what the invoice asks for after 红冲: owed back to the institution."""
        return max(self.paid - self.due, ZERO)


def fold(history: Sequence[InvoiceEvent]) -> InvoiceView | None:
    """The invoice after ``history``; None when it was never received."""
    view: InvoiceView | None = None
    for event in history:
        if isinstance(event, InvoiceRecorded):
            view = InvoiceView(
                event.invoice_id, event.institution_id, event.distributor_id, event.amount, event.received_on,
                pooling_region_code=event.pooling_region_code,
            )
        elif view is None:
            continue
        elif isinstance(event, InvoicePaymentApplied):
            view = replace(view, paid=view.paid + event.amount)
        elif isinstance(event, InvoiceCreditApplied):
            view = replace(view, amount_due=event.amount_after, credit_notes=(*view.credit_notes, event))
        elif isinstance(event, InvoiceVoidRecorded):
            view = replace(view, amount_due=ZERO, voided_on=event.voided_on)
    return view


def receive(history: Sequence[InvoiceEvent], received: InvoiceRecorded) -> list[InvoiceEvent]:
    """Decide: record a received invoice; the same invoice again records nothing."""
    if not history:
        return [received]
    if history[0] == received:
        return []
    raise AlreadyExists(f"invoice {received.invoice_id} was received already with different details")


def credit(history: Sequence[InvoiceEvent], credited: InvoiceCreditApplied) -> list[InvoiceEvent]:
    """Decide: apply a credit note; the same credit note again records nothing."""
    view = _known(history, credited.invoice_id)
    known = next((c for c in view.credit_notes if c.credit_note_id == credited.credit_note_id), None)
    if known is not None:
        if known == credited:
            return []
        raise AlreadyExists(f"credit note {credited.credit_note_id} was applied already with different details")
    if view.voided_on is not None:
        raise DomainRuleViolated("invoice_id", f"invoice {credited.invoice_id} was voided on {view.voided_on}: nothing is left to credit")
    if not ZERO <= credited.amount_after < view.due:
        raise DomainRuleViolated(
            "invoice_amount_after", f"{credited.amount_after} must be below what invoice {credited.invoice_id} asks for now ({view.due})"
        )
    return [credited]


def void(history: Sequence[InvoiceEvent], voided: InvoiceVoidRecorded) -> list[InvoiceEvent]:
    """Decide: void the invoice; voiding it again records nothing."""
    view = _known(history, voided.invoice_id)
    return [] if view.voided_on is not None else [voided]


def _known(history: Sequence[InvoiceEvent], invoice_id: str) -> InvoiceView:
    view = fold(history)
    if view is None:
        raise DomainRuleViolated("invoice_id", f"invoice {invoice_id} is unknown: settlement has not received it (InvoiceReceived)")
    return view
