"""The prepayment schedule (医保预付, R5): what a prepayment stream holds, and each phase's floor and due date (pure).

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
  net of returns, against the budget), so products of different units add up.

The decisions on it (disbursement, liquidation) are in ``jicai_settlement.domain.prepayment``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import reduce, singledispatch

from jicai_policy import Prepayment, PrepaymentTrigger
from jicai_settlement.domain.contract import Contract
from jicai_settlement.domain.events import (
    AgreementAmendmentNoted,
    AgreementNoted,
    Instalment,
    PrepaymentDisbursed,
    PrepaymentEvent,
    PrepaymentLiquidated,
    PrepaymentScheduled,
)

ZERO = Decimal("0.00")
FEN = Decimal("0.01")


def money(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def schedule_id(institution_id: str, year: int) -> str:
    return f"{institution_id}-{year}"


# ---- the stream's state ------------------------------------------------------------------


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


# ---- floors and due dates -----------------------------------------------------------------


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
