"""Payments (回款) as the settlement service recorded them.

Topics are not ordered with each other, so a payment may arrive before the
invoice it pays: it is kept (its own stream) and counted once the invoice is
tracked. The same payment again records nothing.
"""
from __future__ import annotations

from collections.abc import Sequence

from jicai_alerts.domain.events import AlertsEvent, PaymentReceived
from jicai_events.rules import Conflict


def receive(history: Sequence[AlertsEvent], payment: PaymentReceived) -> list[AlertsEvent]:
    """Decide: keep ``payment`` unless its stream holds it already."""
    if not history:
        return [payment]
    kept = history[0]
    if isinstance(kept, PaymentReceived) and kept.model_copy(update={"payment_event_id": payment.payment_event_id}) == payment:
        return []  # the same payment, possibly published again under another event id
    raise Conflict(f"payment {payment.payment_id} is recorded already with other details")
