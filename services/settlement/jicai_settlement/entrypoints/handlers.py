"""Handlers of the integration events settlement consumes (run by the idempotent consumer).

Each runs inside the consumer's unit of work, after the event id was claimed,
so a redelivered event changes nothing. A fact settlement cannot apply (a
release of a withhold it never saw, an invoice id reused with other content)
is ``Unprocessable``: it goes to the dead-letter topic with the reason.
"""
from __future__ import annotations

from collections.abc import Awaitable

import jicai_events.catalog as ie
from jicai_events.consumer import Unprocessable
from jicai_events.envelope import Envelope
from jicai_events.rules import Conflict, RuleViolated
from jicai_events.unit_of_work import UnitOfWork
from jicai_settlement.application import services
from jicai_settlement.domain.events import InvoiceCreditApplied, InvoiceRecorded, InvoiceVoidRecorded
from jicai_settlement.domain.institution_settlement import LiftSuspension, LiftWithhold, RecordSuspension, RecordWithhold


async def on_invoice_received(uow: UnitOfWork, envelope: Envelope, event: ie.InvoiceReceived) -> None:
    received = InvoiceRecorded(
        invoice_id=event.invoice_id, institution_id=event.institution_id, distributor_id=event.distributor_id,
        amount=event.amount, received_on=event.received_on, pooling_region_code=event.pooling_region_code,
    )
    await _refusals_are_unprocessable(services.receive_invoice(uow, received))


async def on_invoice_credited(uow: UnitOfWork, envelope: Envelope, event: ie.InvoiceCredited) -> None:
    credited = InvoiceCreditApplied(
        invoice_id=event.invoice_id, credit_note_id=event.credit_note_id, credit_note_number=event.credit_note_number,
        amount=event.amount, amount_after=event.invoice_amount_after, received_on=event.received_on, reason=event.reason,
    )
    await _refusals_are_unprocessable(services.credit_invoice(uow, credited))


async def on_invoice_voided(uow: UnitOfWork, envelope: Envelope, event: ie.InvoiceVoided) -> None:
    voided = InvoiceVoidRecorded(invoice_id=event.invoice_id, voided_on=event.voided_on, reason=event.reason)
    await _refusals_are_unprocessable(services.void_invoice(uow, voided))


async def on_settlement_withheld(uow: UnitOfWork, envelope: Envelope, event: ie.SettlementWithheld) -> None:
    cmd = RecordWithhold(
        institution_id=event.institution_id, decision_id=event.decision_id, invoice_id=event.invoice_id,
        warned_on=event.warned_on, withheld_from=event.withheld_from, outstanding_amount=event.outstanding_amount,
        profile_id=event.profile_id, profile_version=event.profile_version, caused_by=event.caused_by,
    )
    await _refusals_are_unprocessable(services.record_withhold(uow, cmd))


async def on_settlement_released(uow: UnitOfWork, envelope: Envelope, event: ie.SettlementReleased) -> None:
    cmd = LiftWithhold(
        institution_id=event.institution_id, release_decision_id=event.decision_id,
        withhold_decision_id=event.withhold_decision_id, invoice_id=event.invoice_id, released_on=event.released_on,
        profile_id=event.profile_id, profile_version=event.profile_version, caused_by=event.caused_by,
    )
    await _refusals_are_unprocessable(services.lift_withhold(uow, cmd))


async def on_settlement_suspended(uow: UnitOfWork, envelope: Envelope, event: ie.SettlementSuspended) -> None:
    cmd = RecordSuspension(
        institution_id=event.institution_id, decision_id=event.decision_id, period_end=event.period_end, ratio=event.ratio,
        suspend_below=event.suspend_below, suspended_from=event.suspended_from, profile_id=event.profile_id,
        profile_version=event.profile_version, caused_by=event.caused_by,
    )
    await _refusals_are_unprocessable(services.record_suspension(uow, cmd))


async def on_settlement_resumed(uow: UnitOfWork, envelope: Envelope, event: ie.SettlementResumed) -> None:
    cmd = LiftSuspension(
        institution_id=event.institution_id, resume_decision_id=event.decision_id,
        suspension_decision_id=event.suspension_decision_id, resumed_on=event.resumed_on, reason=event.reason,
        profile_id=event.profile_id, profile_version=event.profile_version, caused_by=event.caused_by,
    )
    await _refusals_are_unprocessable(services.lift_suspension(uow, cmd))


async def _refusals_are_unprocessable(work: Awaitable[bool]) -> None:
    try:
        await work
    except (RuleViolated, Conflict) as exc:
        raise Unprocessable(str(exc)) from exc
