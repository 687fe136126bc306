"""Insurance prepayments to institutions (医保预付, R5): schedule, disbursements, liquidation (清算).

A schedule covers one institution and one year: the yearly agreements (年度采购协议)
whose agreement year starts in that calendar year. Its procurement budget
(采购预算 / 采购金额) is the sum of agreed volume × unit price over them. Every
number comes from the profile's ``prepayment`` section:

- Guizhou 000 §五(三): one instalment each January (``paid_by_month``) of at
  least ``share_of_last_year_monthly_fund_payment`` × last year's average monthly
  fund payment, never below ``minimum_share_of_procurement_amount`` × budget;
- Hubei 003 §四(三): phase 1 ≥ 30% of the budget once the agreement is signed;
  phase 2 once half the agreement year has run (采购周期执行半年) OR 60% of the
  agreed volume is accepted, whichever comes first, up to ≥ 90% in all;
- Chongqing 004 §二(七): ≥ 50% of the procurement amount; the notice gives no
  date, so it is due once the agreement is signed (the platform's choice).

Choices where the notices are silent:

- "last year's average monthly fund payment": the amount the fund states
  wins; else the institution's monthly settlements of the previous calendar
  year known here, averaged over the months reported;
- the volume trigger compares amounts (accepted quantity × agreed unit price,
  net of returns, against the budget), so products of different units add up;
- a disbursement of a phase not yet due is refused; one that leaves the phase
  below its floor must say ``partial`` (the fund pays in parts, the shortfall
  stays visible); amounts above the floor are allowed (the floors are minimums);
- liquidation: once, on or after the end of the contracts' cycle (moved by
  extensions): prepaid against the institution's invoice amounts after 红冲
  received within the schedule's agreement years → amount to return or top up.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce, singledispatch
from typing import Literal

from jicai_policy import PolicyProfile, Prepayment, PrepaymentTrigger
from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    AcceptanceNoted,
    AgreementAmendmentNoted,
    AgreementNoted,
    ContractCycleMoved,
    ContractEvent,
    ContractNoted,
    Instalment,
    PrepaymentDisbursed,
    PrepaymentEvent,
    PrepaymentLiquidated,
    PrepaymentScheduled,
    ReturnNoted,
)

ZERO = Decimal("0.00")
FEN = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def schedule_id(institution_id: str, year: int) -> str:
    return f"{institution_id}-{year}"


# ---- state ------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    noted: ContractNoted | None = None
    cycle_end: date | None = None
    acceptances: dict[str, AcceptanceNoted] = field(default_factory=dict)
    returns: dict[str, ReturnNoted] = field(default_factory=dict)


@singledispatch
def _evolve_contract(event: object, state: Contract) -> Contract:
    raise TypeError(f"not a contract event: {type(event).__name__}")


@_evolve_contract.register
def _(event: ContractNoted, state: Contract) -> Contract:
    return replace(state, noted=event, cycle_end=state.cycle_end or event.cycle_end)


@_evolve_contract.register
def _(event: ContractCycleMoved, state: Contract) -> Contract:
    return replace(state, cycle_end=event.cycle_end)


def fold_contract(history: Sequence[ContractEvent]) -> Contract:
    """Acceptances and returns go into the fold's own dicts (copying them per event made a long contract quadratic)."""
    state = Contract()
    for event in history:
        if isinstance(event, AcceptanceNoted):
            state.acceptances[event.acceptance_id] = event
        elif isinstance(event, ReturnNoted):
            state.returns[event.return_id] = event
        else:
            state = _evolve_contract(event, state)
    return state


@dataclass(frozen=True)
class Schedule:
    """What a prepayment stream holds: the agreements, what was scheduled, disbursed and liquidated."""

    agreements: dict[str, AgreementNoted] = field(default_factory=dict)
    scheduled: PrepaymentScheduled | None = None
    disbursements: dict[str, PrepaymentDisbursed] = field(default_factory=dict)
    liquidation: PrepaymentLiquidated | None = None

    def disbursed(self, phase: int | None = None) -> Decimal:
        return sum((d.amount for d in self.disbursements.values() if phase in (None, d.phase)), ZERO)

    @property
    def stated_fund_payment(self) -> Decimal | None:
        """The latest average monthly fund payment the fund stated with a disbursement."""
        stated = [d for d in self.disbursements.values() if d.last_year_average_monthly_fund_payment is not None]
        return stated[-1].last_year_average_monthly_fund_payment if stated else None


@singledispatch
def _evolve(event: object, state: Schedule) -> Schedule:
    raise TypeError(f"not a prepayment event: {type(event).__name__}")


@_evolve.register
def _(event: AgreementNoted, state: Schedule) -> Schedule:
    return replace(state, agreements={**state.agreements, event.agreement_id: event})


@_evolve.register
def _(event: AgreementAmendmentNoted, state: Schedule) -> Schedule:
    amended = state.agreements[event.agreement_id].model_copy(update={"agreed_quantity": event.agreed_quantity})
    return replace(state, agreements={**state.agreements, event.agreement_id: amended})


@_evolve.register
def _(event: PrepaymentScheduled, state: Schedule) -> Schedule:
    return replace(state, scheduled=event)


@_evolve.register
def _(event: PrepaymentDisbursed, state: Schedule) -> Schedule:
    return replace(state, disbursements={**state.disbursements, event.disbursement_id: event})


@_evolve.register
def _(event: PrepaymentLiquidated, state: Schedule) -> Schedule:
    return replace(state, liquidation=event)


def fold(history: Sequence[PrepaymentEvent]) -> Schedule:
    return reduce(lambda state, event: _evolve(event, state), history, Schedule())


# ---- the schedule (pure) ----------------------------------------------------------------


@dataclass(frozen=True)
class Basis:
    """Everything a schedule is computed from besides the profile."""

    agreements: Sequence[AgreementNoted]
    contracts: dict[str, Contract]
    fund_payments_last_year: dict[str, Decimal]
    """The institution's monthly settlements of the previous calendar year, by month."""
    stated_fund_payment: Decimal | None = None
    """Last year's average monthly fund payment as the fund states it: wins over the reported months."""

    @property
    def budget(self) -> Decimal:
        return money(sum((a.unit_price * a.agreed_quantity for a in self.agreements), ZERO))

    @property
    def year_start(self) -> date:
        return min(a.year_start for a in self.agreements)

    @property
    def year_end(self) -> date:
        return max(a.year_end for a in self.agreements)

    @property
    def signed_on(self) -> date:
        return min(a.signed_on for a in self.agreements)

    @property
    def cycle_end(self) -> date | None:
        ends = [c.cycle_end for c in self.contracts.values() if c.cycle_end is not None]
        return max(ends) if len(ends) == len({a.contract_id for a in self.agreements}) and ends else None

    def average_monthly_fund_payment(self) -> tuple[Decimal | None, str]:
        if self.stated_fund_payment is not None:
            return self.stated_fund_payment, "as stated by the fund"
        if not self.fund_payments_last_year:
            return None, "no monthly settlement of last year is known and the fund stated none"
        months = self.fund_payments_last_year
        return money(sum(months.values(), ZERO) / len(months)), f"average of the {len(months)} monthly settlements reported for last year"

    def volume_share_reached_on(self, share: Decimal) -> date | None:
        """The date accepted amounts, net of returns (退货), first reach ``share`` of the budget within the agreement years."""
        price = {a.contract_id: (a.unit_price, a.year_start, a.year_end) for a in self.agreements}
        moves = sorted(
            [(x.accepted_on, x.accepted_quantity * price[cid][0]) for cid, c in self.contracts.items() if cid in price
             for x in c.acceptances.values() if price[cid][1] <= x.accepted_on <= price[cid][2]]
            + [(r.returned_on, -r.returned_quantity * price[cid][0]) for cid, c in self.contracts.items() if cid in price
               for r in c.returns.values() if price[cid][1] <= r.returned_on <= price[cid][2]]
        )
        target, total = share * self.budget, ZERO
        for on, amount in moves:
            total += amount
            if total >= target and target > 0:
                return on  # fired: a later return does not un-fire it
        return None


@dataclass(frozen=True)
class Planned:
    """One instalment of the schedule and when it becomes due, as far as known."""

    instalment: Instalment
    due_on: date | None
    due_by: str | None
    """The trigger that made (or will make) it due, with the date it fires."""


@dataclass(frozen=True)
class InstalmentView:
    phase: int
    triggers: tuple[str, ...]
    minimum_amount: Decimal
    basis: str
    due_on: date | None
    due_by: str | None
    """The trigger that made (or will make) it due, with the date it fired."""
    disbursed: Decimal
    due: bool

    @property
    def shortfall(self) -> Decimal:
        """Below the floor: what is still to disburse (nothing while it is not due)."""
        return max(self.minimum_amount - self.disbursed, ZERO) if self.due else ZERO


def instalments(prepayment: Prepayment, basis: Basis) -> list[Planned]:
    """The pure schedule: each phase's floor and the triggers that make it due (dates as far as known)."""
    budget = basis.budget
    if not prepayment.phases:
        floors, reasons = [], []
        if prepayment.minimum_share_of_procurement_amount is not None:
            floors.append(money(prepayment.minimum_share_of_procurement_amount * budget))
            reasons.append(f"{prepayment.minimum_share_of_procurement_amount:.0%} of the procurement amount {budget}")
        if prepayment.share_of_last_year_monthly_fund_payment is not None:
            average, how = basis.average_monthly_fund_payment()
            share = prepayment.share_of_last_year_monthly_fund_payment
            if average is not None:
                floors.append(money(share * average))
            reasons.append(f"{share:.0%} of last year's average monthly fund payment {average} ({how})")
        trigger = PrepaymentTrigger.ANNUAL if prepayment.paid_by_month is not None else PrepaymentTrigger.CONTRACT_SIGNED
        due_on, due_by = _fired(prepayment, trigger, None, basis)
        basis_text = "the greater of " + " and ".join(reasons) if len(reasons) > 1 else reasons[0]
        first = Instalment(phase=1, triggers=(trigger.value,), minimum_amount=max(floors, default=ZERO), basis=basis_text)
        return [Planned(first, due_on, due_by)]
    total_share = prepayment.minimum_total_share_of_procurement_budget or Decimal(0)
    rest = total_share - sum((p.min_share_of_procurement_budget or Decimal(0) for p in prepayment.phases), Decimal(0))
    out = []
    for phase in prepayment.phases:
        floor = phase.min_share_of_procurement_budget
        text = f"{floor:.0%} of the procurement budget {budget}" if floor is not None else (
            f"the rest up to {total_share:.0%} of the procurement budget {budget} ({rest:.0%})")
        fired = [_fired(prepayment, t, phase.trigger_volume_share, basis) for t in phase.triggers]
        known = [(on, by) for on, by in fired if on is not None]
        due_on, due_by = min(known) if known else (None, None)
        planned = Instalment(phase=phase.phase, triggers=tuple(t.value for t in phase.triggers),
                             minimum_amount=money((floor if floor is not None else rest) * budget), basis=text)
        out.append(Planned(planned, due_on, due_by))
    return out


def _fired(prepayment: Prepayment, trigger: PrepaymentTrigger, volume_share: Decimal | None, basis: Basis) -> tuple[date | None, str | None]:
    on: date | None
    if trigger is PrepaymentTrigger.CONTRACT_SIGNED:
        on = basis.signed_on
    elif trigger is PrepaymentTrigger.ANNUAL:
        month = prepayment.paid_by_month or 1
        on = max(date(basis.year_start.year, month, 1), basis.signed_on)  # each January, but not before there is an agreement
    elif trigger is PrepaymentTrigger.HALF_CYCLE_ELAPSED:
        on = basis.year_start + timedelta(days=((basis.year_end - basis.year_start).days + 1) // 2)
    else:
        on = basis.volume_share_reached_on(volume_share or Decimal(1))
    return on, (f"{trigger.value} on {on}" if on is not None else None)


def view(planned: Sequence[Planned], state: Schedule, as_of: date) -> list[InstalmentView]:
    """The schedule as of ``as_of``: due or not, disbursed, and (see ``shortfall``) what is missing against the floor."""
    return [
        InstalmentView(
            phase=p.instalment.phase, triggers=p.instalment.triggers, minimum_amount=p.instalment.minimum_amount,
            basis=p.instalment.basis, due_on=p.due_on, due_by=p.due_by, disbursed=state.disbursed(p.instalment.phase),
            due=p.due_on is not None and p.due_on <= as_of,
        )
        for p in planned
    ]


# ---- decisions ----------------------------------------------------------------------------

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
