"""Use cases: each loads its streams, asks the domain to decide, records the events.

The caller (an entrypoint) owns the unit of work and so the commit.

Overpayment under concurrency: a payment appends ``InvoicePaymentApplied`` to
the stream of every invoice it pays, at the version it decided on. Two
payments deciding on the same invoice version collide on the event store's
unique (stream, version); the loser is retried by ``execute`` from scratch,
sees the winner's payment and is refused if it would now overpay. Invoice
streams are appended in invoice-id order so two payments of the same
invoices never deadlock.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from sqlalchemy.exc import IntegrityError

from jicai_events.unit_of_work import UnitOfWork
from jicai_settlement.adapters import metrics
from jicai_settlement.adapters import repository as repo
from jicai_settlement.domain import institution_settlement as settlement
from jicai_settlement.domain import invoice, payment, settlement_state
from jicai_settlement.domain.errors import AlreadyExists
from jicai_settlement.domain.events import (
    DirectSettlementDeducted,
    InstitutionSettlementEvent,
    InvoiceCreditApplied,
    InvoiceEvent,
    InvoicePaymentApplied,
    InvoiceRecorded,
    InvoiceVoidRecorded,
    PaymentRecorded,
    SettlementEvent,
    WithholdLifted,
    WithholdRecorded,
)


async def receive_invoice(uow: UnitOfWork, received: InvoiceRecorded) -> bool:
    """Record an invoice the orders service received; False when it was known already."""
    return await _decide_for_invoice(uow, received.invoice_id, lambda history: invoice.receive(history, received))


async def credit_invoice(uow: UnitOfWork, credited: InvoiceCreditApplied) -> bool:
    """Apply a credit note (红冲) the orders service recorded; False when it was applied already."""
    return await _decide_for_invoice(uow, credited.invoice_id, lambda history: invoice.credit(history, credited))


async def void_invoice(uow: UnitOfWork, voided: InvoiceVoidRecorded) -> bool:
    """Void an invoice (全额红冲); False when it was voided already."""
    return await _decide_for_invoice(uow, voided.invoice_id, lambda history: invoice.void(history, voided))


async def _decide_for_invoice(
    uow: UnitOfWork, invoice_id: str, decide: Callable[[Sequence[InvoiceEvent]], list[InvoiceEvent]]
) -> bool:
    stream = repo.invoice_stream(invoice_id)
    history, version = await repo.streams.load(uow, stream)
    new = decide(cast(list[InvoiceEvent], history))
    await repo.streams.append(uow, stream, "invoice", version, new)
    return bool(new)


async def record_payment(uow: UnitOfWork, cmd: payment.RecordPayment, profile_of: payment.ProfileOf | None = None) -> bool:
    """Record a payment; False when it repeated an identical earlier one.

    A direct settlement (payer ``insurance_fund``, 直接结算) is also deducted from
    the institution's monthly settlement of the month it was paid in, where the profile says so.
    """
    payment_stream = repo.payment_stream(cmd.payment_id)
    history, payment_version = await repo.streams.load(uow, payment_stream)
    views: dict[str, invoice.InvoiceView | None] = {}
    versions: dict[str, int] = {}
    for invoice_id in sorted({a.invoice_id for a in cmd.allocations}):
        invoice_history, versions[invoice_id] = await repo.streams.load(uow, repo.invoice_stream(invoice_id))
        views[invoice_id] = invoice.fold(cast(list[InvoiceEvent], invoice_history))
    new = payment.record(cast(list[PaymentRecorded], history), cmd, views, profile_of)
    applied: dict[str, list[SettlementEvent]] = {}
    for event in new:
        if isinstance(event, InvoicePaymentApplied):
            applied.setdefault(event.invoice_id, []).append(event)
    for invoice_id in sorted(applied):
        await repo.streams.append(uow, repo.invoice_stream(invoice_id), "invoice", versions[invoice_id], applied[invoice_id])
    recorded = [e for e in new if isinstance(e, PaymentRecorded)]
    await repo.streams.append(uow, payment_stream, "payment", payment_version, recorded)
    if recorded and cmd.payer == "insurance_fund":
        first = views[cmd.allocations[0].invoice_id]
        assert first is not None  # payment.record refused unknown invoices
        if payment.direct_settlement("allocations[0].invoice_id", first, cmd.paid_on, profile_of).deduct_from_institution_settlement:
            deducted = DirectSettlementDeducted(
                institution_id=cmd.institution_id, payment_id=cmd.payment_id, distributor_id=cmd.distributor_id,
                month=cmd.paid_on.strftime("%Y-%m"), paid_on=cmd.paid_on, amount=cmd.amount,
            )
            await _decide_for_institution(uow, cmd.institution_id, lambda past: settlement.deduct(past, deducted))
    return bool(new)


async def record_withhold(uow: UnitOfWork, cmd: settlement.RecordWithhold) -> bool:
    new = await _decide_for_institution(uow, cmd.institution_id, lambda history: settlement.withhold(history, cmd))
    return bool(new)


async def lift_withhold(uow: UnitOfWork, cmd: settlement.LiftWithhold) -> bool:
    new = await _decide_for_institution(uow, cmd.institution_id, lambda history: settlement.lift(history, cmd))
    return bool(new)


async def record_suspension(uow: UnitOfWork, cmd: settlement.RecordSuspension) -> bool:
    new = await _decide_for_institution(uow, cmd.institution_id, lambda history: settlement.suspend(history, cmd))
    return bool(new)


async def lift_suspension(uow: UnitOfWork, cmd: settlement.LiftSuspension) -> bool:
    new = await _decide_for_institution(uow, cmd.institution_id, lambda history: settlement.resume(history, cmd))
    return bool(new)


async def report_monthly_settlement(
    uow: UnitOfWork, cmd: settlement.ReportMonthlySettlement
) -> tuple[bool, settlement_state.MonthlySettlementStatus]:
    """Record a monthly settlement; returns (created, its status now)."""
    elsewhere = await repo.find(uow, repo.t.monthly_settlements, cmd.settlement_id)
    if elsewhere is not None and elsewhere["institution_id"] != cmd.institution_id:
        raise AlreadyExists(f"monthly settlement {cmd.settlement_id} was reported already for another institution")
    stream = repo.institution_stream(cmd.institution_id)
    history, version = await repo.streams.load(uow, stream)
    past = cast(list[InstitutionSettlementEvent], history)
    new = settlement.report(past, cmd)
    try:
        await repo.streams.append(uow, stream, "institution-settlement", version, new)
    except IntegrityError as exc:
        # The same id reported concurrently for another institution: its row landed first (the streams differ, so
        # the event store cannot see the clash; the read model's primary key does).
        if "monthly_settlements_pkey" not in str(exc.orig):
            raise
        raise AlreadyExists(f"monthly settlement {cmd.settlement_id} was reported already for another institution") from exc
    return bool(new), settlement_state.fold([*past, *new]).settlements[cmd.settlement_id].status


async def _decide_for_institution(
    uow: UnitOfWork,
    institution_id: str,
    decide: Callable[[Sequence[InstitutionSettlementEvent]], list[InstitutionSettlementEvent]],
) -> list[InstitutionSettlementEvent]:
    stream = repo.institution_stream(institution_id)
    history, version = await repo.streams.load(uow, stream)
    new = decide(cast(list[InstitutionSettlementEvent], history))
    await repo.streams.append(uow, stream, "institution-settlement", version, new)
    if any(isinstance(e, WithholdRecorded | WithholdLifted) for e in new):
        await metrics.refresh_after_commit(uow)
    return new
