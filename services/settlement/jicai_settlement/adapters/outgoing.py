"""Translation of settlement domain events into integration events (the edge).

Payments, monthly settlement reports and their later releases, and prepayments
are facts other services read; invoices, withholds, suspensions, contracts,
agreements and acceptances came from them.
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
        payer=event.payer,
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


@translate.register
def _(event: e.MonthlySettlementReleased) -> IntegrationEvent:
    if event.month is None or event.amount is None or event.reason is None:
        raise TypeError(f"release of {event.settlement_id} lacks month, amount or reason: only stored releases can")
    return ie.MonthlySettlementReleased(
        settlement_id=event.settlement_id, institution_id=event.institution_id, month=event.month, amount=event.amount,
        released_on=event.released_on, reason=event.reason,
    )


@translate.register
def _(event: e.PrepaymentScheduled) -> IntegrationEvent:
    return ie.PrepaymentScheduled(
        **event.model_dump(exclude={"instalments"}),
        instalments=tuple(ie.PrepaymentInstalment(**i.model_dump()) for i in event.instalments),
    )


@translate.register
def _(event: e.PrepaymentDisbursed) -> IntegrationEvent:
    return ie.PrepaymentDisbursed(**event.model_dump(exclude={"last_year_average_monthly_fund_payment"}))


@translate.register
def _(event: e.PrepaymentLiquidated) -> IntegrationEvent:
    return ie.PrepaymentLiquidated(**event.model_dump())


@translate.register(e.InvoiceRecorded)
@translate.register(e.InvoicePaymentApplied)
@translate.register(e.InvoiceCreditApplied)
@translate.register(e.InvoiceVoidRecorded)
@translate.register(e.WithholdRecorded)
@translate.register(e.WithholdLifted)
@translate.register(e.SuspensionRecorded)
@translate.register(e.SuspensionLifted)
@translate.register(e.DirectSettlementDeducted)
@translate.register(e.ContractNoted)
@translate.register(e.ContractCycleMoved)
@translate.register(e.AcceptanceNoted)
@translate.register(e.ReturnNoted)
@translate.register(e.AgreementNoted)
@translate.register(e.AgreementAmendmentNoted)
def _(event: object) -> None:
    return None
