"""Invoices as settlement sees them: what is owed, what was paid (R1: partial payment reduces what is owed).

The invoice is received from the orders service; settlement only adds the
payments applied to it. Its stream is the guard against overpayment: every
payment appends to the stream of each invoice it pays, at the version it
decided on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_settlement.domain.errors import AlreadyExists
from jicai_settlement.domain.events import InvoiceEvent, InvoicePaymentApplied, InvoiceRecorded


@dataclass(frozen=True)
class InvoiceView:
    """The state a payment decision needs about one invoice."""

    invoice_id: str
    institution_id: str
    distributor_id: str
    amount: Decimal
    received_on: date
    paid: Decimal = Decimal("0.00")

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid


def fold(history: Sequence[InvoiceEvent]) -> InvoiceView | None:
    """The invoice after ``history``; None when it was never received."""
    view: InvoiceView | None = None
    for event in history:
        if isinstance(event, InvoiceRecorded):
            view = InvoiceView(event.invoice_id, event.institution_id, event.distributor_id, event.amount, event.received_on)
        elif isinstance(event, InvoicePaymentApplied) and view is not None:
            view = InvoiceView(
                view.invoice_id, view.institution_id, view.distributor_id, view.amount, view.received_on, view.paid + event.amount
            )
    return view


def receive(history: Sequence[InvoiceEvent], received: InvoiceRecorded) -> list[InvoiceEvent]:
    """Decide: record a received invoice; the same invoice again records nothing."""
    if not history:
        return [received]
    if history[0] == received:
        return []
    raise AlreadyExists(f"invoice {received.invoice_id} was received already with different details")
