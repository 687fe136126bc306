"""Handlers of the integration events settlement consumes (run by the idempotent consumer).

Each runs inside the consumer's unit of work, after the event id was claimed,
so a redelivered event changes nothing. A fact settlement cannot apply (a
release of a withhold it never saw, an invoice id reused with other content)
is ``Unprocessable``: it goes to the dead-letter topic with the reason.
"""
from __future__ import annotations

from collections.abc import Awaitable
from datetime import date

import jicai_events.catalog as ie
from jicai_events.envelope import Envelope
from jicai_events.rules import Conflict, RuleViolated
from jicai_events.subscriptions import Unprocessable
from jicai_events.unit_of_work import UnitOfWork
from jicai_settlement.adapters.policy import policy_book
from jicai_settlement.application import prepayments, services
from jicai_settlement.domain.events import (
    AcceptanceNoted,
    AgreementAmendmentNoted,
    AgreementNoted,
    ContractCycleMoved,
    ContractNoted,
    InvoiceCreditApplied,
    InvoiceRecorded,
    InvoiceVoidRecorded,
    ReturnNoted,
)
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
        profile_id=event.profile_id, profile_version=event.profile_version, caused_by=event.caused_by, reason=event.reason,
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


# ---- contracts and acceptances, for prepayments (医保预付) ----------------------------------------


async def on_contract_signed(uow: UnitOfWork, envelope: Envelope, event: ie.ContractSigned) -> None:
    noted = ContractNoted(
        contract_id=event.contract_id, institution_id=event.institution_id, pooling_region_code=event.pooling_region_code,
        cycle_start=event.cycle_start, cycle_end=event.cycle_end, signed_on=event.signed_on,
    )
    await _refusals_are_unprocessable(prepayments.note_contract(uow, noted))


async def on_contract_cycle_extended(uow: UnitOfWork, envelope: Envelope, event: ie.ContractCycleExtended) -> None:
    moved = ContractCycleMoved(contract_id=event.contract_id, cycle_end=event.cycle_end, extended_on=event.extended_on)
    await _refusals_are_unprocessable(prepayments.move_cycle(uow, moved))


async def on_delivery_accepted(uow: UnitOfWork, envelope: Envelope, event: ie.DeliveryAccepted) -> None:
    accepted = AcceptanceNoted(
        contract_id=event.contract_id, acceptance_id=event.acceptance_id, accepted_on=event.accepted_on,
        accepted_quantity=event.accepted_quantity,
    )
    await _refusals_are_unprocessable(prepayments.note_acceptance(uow, accepted))


async def on_delivery_returned(uow: UnitOfWork, envelope: Envelope, event: ie.DeliveryReturned) -> None:
    returned = ReturnNoted(
        contract_id=event.contract_id, return_id=event.return_id, returned_on=event.returned_on, returned_quantity=event.returned_quantity,
    )
    await _refusals_are_unprocessable(prepayments.note_return(uow, returned))


async def on_yearly_agreement_signed(uow: UnitOfWork, envelope: Envelope, event: ie.YearlyAgreementSigned) -> None:
    await _note_agreement(uow, event, event.agreement_year, event.signed_on)


async def on_yearly_agreement_rolled_over(uow: UnitOfWork, envelope: Envelope, event: ie.YearlyAgreementRolledOver) -> None:
    await _note_agreement(uow, event, event.agreement_year, event.rolled_over_on)


async def _note_agreement(
    uow: UnitOfWork, event: ie.YearlyAgreementSigned | ie.YearlyAgreementRolledOver, year: int, signed_on: date
) -> None:
    noted = AgreementNoted(
        agreement_id=event.agreement_id, contract_id=event.contract_id, institution_id=event.institution_id,
        pooling_region_code=event.pooling_region_code, agreement_year=year, year_start=event.year_start,
        year_end=event.year_end, agreed_quantity=event.agreed_quantity, unit_price=event.unit_price, signed_on=signed_on,
    )
    await _refusals_are_unprocessable(prepayments.note_agreement(uow, noted, policy_book()))


async def on_yearly_agreement_amended(uow: UnitOfWork, envelope: Envelope, event: ie.YearlyAgreementAmended) -> None:
    amended = AgreementAmendmentNoted(agreement_id=event.agreement_id, agreed_quantity=event.agreed_quantity, amended_on=event.amended_on)
    await _refusals_are_unprocessable(prepayments.amend_agreement(uow, amended, policy_book()))


async def _refusals_are_unprocessable(work: Awaitable[bool]) -> None:
    try:
        await work
    except (RuleViolated, Conflict) as exc:
        raise Unprocessable(str(exc)) from exc
