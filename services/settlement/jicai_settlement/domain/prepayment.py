"""Decisions on insurance prepayments to institutions (医保预付, R5): agreements noted, schedule kept, disbursements,
liquidation (清算). The schedule itself (state, floors, due dates) is ``jicai_settlement.domain.prepayment_schedule``.

Choices where the notices are silent:

- a disbursement of a phase not yet due is refused; one that leaves the phase
  below its floor must say ``partial`` (the fund pays in parts, the shortfall
  stays visible); amounts above the floor are allowed (the floors are minimums);
- liquidation: once, on or after the end of the contracts' cycle (moved by
  extensions): prepaid against the institution's invoice amounts after 红冲
  received within the schedule's agreement years → amount to return or top up.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from jicai_policy import PolicyProfile, Prepayment
from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    AgreementAmendmentNoted,
    AgreementNoted,
    PrepaymentDisbursed,
    PrepaymentEvent,
    PrepaymentLiquidated,
    PrepaymentScheduled,
)
from jicai_settlement.domain.prepayment_schedule import Basis, Planned, Schedule, fold, instalments, schedule_id, view


def require_prepayment(profile: PolicyProfile, region: str) -> Prepayment:
    if profile.prepayment is None:
        raise DomainRuleViolated(
            "institution_id",
            f"profile {profile.profile_id} v{profile.version} of pooling region {region} has no prepayment (医保预付): "
            "its notice sets no prepayment share, so there is no schedule to disburse against",
        )
    return profile.prepayment


def reschedule(state: Schedule, new: Sequence[PrepaymentEvent], profile: PolicyProfile, basis: Basis) -> list[PrepaymentEvent]:
    """After agreement facts ``new`` (``state`` includes them): also ``PrepaymentScheduled`` when the schedule changed.

    A profile without prepayment schedules nothing: its agreements are still noted (its notice may gain one later).
    """
    if profile.prepayment is None or not state.agreements:
        return list(new)
    scheduled = PrepaymentScheduled(
        schedule_id=_id_of(state), institution_id=next(iter(state.agreements.values())).institution_id,
        year=basis.year_start.year, procurement_budget=basis.budget, profile_id=profile.profile_id,
        profile_version=profile.version, instalments=tuple(p.instalment for p in instalments(profile.prepayment, basis)),
    )
    return list(new) if scheduled == state.scheduled else [*new, scheduled]


def _id_of(state: Schedule) -> str:
    first = next(iter(state.agreements.values()))
    return schedule_id(first.institution_id, min(a.year_start for a in state.agreements.values()).year)


def note_agreement(history: Sequence[PrepaymentEvent], noted: AgreementNoted) -> list[PrepaymentEvent]:
    known = fold(history).agreements.get(noted.agreement_id)
    if known is None:
        return [noted]
    if known.model_copy(update={"agreed_quantity": noted.agreed_quantity}) == noted:
        return []  # the same signing again (its volume may have been amended since)
    raise AlreadyExists(f"agreement {noted.agreement_id} was signed already with different details")


def note_amendment(history: Sequence[PrepaymentEvent], amended: AgreementAmendmentNoted) -> list[PrepaymentEvent]:
    known = fold(history).agreements.get(amended.agreement_id)
    if known is None:
        raise DomainRuleViolated("agreement_id", f"agreement {amended.agreement_id} is unknown to settlement")
    return [] if known.agreed_quantity == amended.agreed_quantity else [amended]


@dataclass(frozen=True)
class Disburse:
    disbursement_id: str
    institution_id: str
    year: int
    phase: int
    amount: Decimal
    disbursed_on: date
    partial: bool = False
    last_year_average_monthly_fund_payment: Decimal | None = None


def disburse(history: Sequence[PrepaymentEvent], cmd: Disburse, planned: Sequence[Planned]) -> list[PrepaymentEvent]:
    """Decide: the fund disburses (拨付) part or all of one phase."""
    state = fold(history)
    event = PrepaymentDisbursed(**cmd.__dict__, schedule_id=schedule_id(cmd.institution_id, cmd.year))
    known = state.disbursements.get(cmd.disbursement_id)
    if known is not None:
        if known == event:
            return []
        raise AlreadyExists(f"disbursement {cmd.disbursement_id} was recorded already with different content")
    if state.liquidation is not None:
        raise DomainRuleViolated("year", f"the prepayments of {cmd.year} were liquidated on {state.liquidation.liquidated_on}")
    if cmd.amount <= 0:
        raise DomainRuleViolated("amount", "must be positive")
    instalment = next((i for i in view(planned, state, cmd.disbursed_on) if i.phase == cmd.phase), None)
    if instalment is None:
        raise DomainRuleViolated("phase", f"the schedule has phases {[p.instalment.phase for p in planned]}, not {cmd.phase}")
    if not instalment.due:
        when = f"due on {instalment.due_on} ({instalment.due_by})" if instalment.due_on else "no trigger has fired yet"
        raise DomainRuleViolated(
            "disbursed_on", f"phase {cmd.phase} is not due on {cmd.disbursed_on}: {when}; triggers {', '.join(instalment.triggers)}"
        )
    after = instalment.disbursed + cmd.amount
    if after < instalment.minimum_amount and not cmd.partial:
        raise DomainRuleViolated(
            "amount",
            f"{cmd.amount} leaves phase {cmd.phase} at {after}, below its floor {instalment.minimum_amount} ({instalment.basis}); "
            "state partial=true to disburse in parts",
        )
    return [event]


@dataclass(frozen=True)
class Liquidate:
    liquidation_id: str
    institution_id: str
    year: int
    liquidated_on: date


def liquidate(history: Sequence[PrepaymentEvent], cmd: Liquidate, basis: Basis, invoiced: Decimal) -> list[PrepaymentEvent]:
    """Decide: liquidate (清算) the year's prepayments against the invoice amounts, once, at the cycle end."""
    state = fold(history)
    prepaid = state.disbursed()
    outcome: Literal["return", "top_up", "settled"] = "return" if prepaid > invoiced else "top_up" if invoiced > prepaid else "settled"
    event = PrepaymentLiquidated(
        liquidation_id=cmd.liquidation_id, schedule_id=schedule_id(cmd.institution_id, cmd.year), institution_id=cmd.institution_id,
        year=cmd.year, liquidated_on=cmd.liquidated_on, prepaid=prepaid, invoiced=invoiced, outcome=outcome,
        amount=abs(prepaid - invoiced),
    )
    if state.liquidation is not None:
        if state.liquidation.liquidation_id == cmd.liquidation_id and state.liquidation.liquidated_on == cmd.liquidated_on:
            return []
        raise AlreadyExists(f"the prepayments of {cmd.year} were liquidated already ({state.liquidation.liquidation_id})")
    end = basis.cycle_end
    if end is None or cmd.liquidated_on < end:
        raise DomainRuleViolated(
            "liquidated_on", f"the procurement cycle ends on {end or 'an unknown date'}: liquidation (清算) comes at its end"
        )
    return [event]
