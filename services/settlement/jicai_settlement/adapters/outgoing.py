"""Translation of settlement domain events into integration events (the edge).

Only payments and monthly settlement reports are facts other services read;
invoices, withholds, suspensions and releases came from them, and a settlement's later
release has no integration event (yet): it is visible through the API.
"""
from __future__ import annotations

from functools import singledispatch

import jicai_events.catalog as ie
from jicai_events.base import IntegrationEvent
from jicai_settlement.domain import events as e


@singledispatch
def translate(event: object) -> IntegrationEvent | None:
    raise TypeError(f"no translation for {type(event).__name__}")


@translate.register
def _(event: e.PaymentRecorded) -> IntegrationEvent:
    return ie.PaymentRecorded(
        payment_id=event.payment_id,
        institution_id=event.institution_id,
        distributor_id=event.distributor_id,
        paid_on=event.paid_on,
        amount=event.amount,
        allocations=tuple(ie.PaymentAllocation(invoice_id=a.invoice_id, amount=a.amount) for a in event.allocations),
        reference=event.reference,
    )


@translate.register
def _(event: e.MonthlySettlementRecorded) -> IntegrationEvent:
    return ie.MonthlySettlementReported(
        settlement_id=event.settlement_id,
        institution_id=event.institution_id,
        month=event.month,
        amount=event.amount,
        status=event.status,
    )


@translate.register(e.InvoiceRecorded)
@translate.register(e.InvoicePaymentApplied)
@translate.register(e.WithholdRecorded)
@translate.register(e.WithholdLifted)
@translate.register(e.SuspensionRecorded)
@translate.register(e.SuspensionLifted)
@translate.register(e.MonthlySettlementReleased)
def _(event: object) -> None:
    return None
