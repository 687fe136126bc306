"""One institution's completion of its agreed volumes (完成约定采购量, R3), Guizhou 000 §五(三).

"按照定点医疗机构中选药品的采购任务量设置季度采购及使用量，对完成设置任务量比例低于 80% 的
定点医疗机构提出预警，低于 70% 的定点医疗机构，自次月起暂停医保月结算 … 待其完成累计采购及
使用量后恢复月结算。如遇不可抗力因素时，另行处理。"

Periods (the profile's ``period``, a quarter) count from each contract's
``cycle_start``; the cumulative target at the end of period k is
agreed_quantity × k / n (n periods in the cycle, the last one ending on
``cycle_end``). Completion counts accepted quantities by ``accepted_on``.

The institution's ratio at a period end is Σ weight × min(1, accepted / target)
over its contracts, weight = target amount (target quantity × unit price) /
Σ target amounts. Each product is capped at 100%, so over-buying one drug never
hides the shortfall of another.

Decisions are taken when the period end's ``DayClosed`` arrives (or a later one:
closing many days at once decides the same). Below ``warning_below`` → warning;
below ``suspend_below`` → monthly settlement suspended from the first day of the
next month, until the cumulative target of the last evaluated period is met
(counting acceptances by date): then resumed on the day it was met, never
before the day after that period end. An exemption (不可抗力) covering a period
end prevents its decisions; granting one that covers the suspending period end
resumes the suspension on the current business day. Revoking an exemption does
not reopen periods already evaluated.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from jicai_alerts.domain import volume_events as v
from jicai_events.rules import Conflict, RuleViolated
from jicai_policy import PolicyProfile

ONE = Decimal(1)
ZERO = Decimal(0)
RATIO_PLACES = Decimal("0.0001")
MONTHS_PER_PERIOD = {"quarter": 3}
DEFAULT_MONTHS = 3

Recorded = tuple[v.VolumeEvent, str]
ProfileFor = Callable[[str, date], PolicyProfile]
"""(pooling region, day) → the profile in force; may raise a PolicyError."""


@dataclass(frozen=True)
class ClosedDay:
    business_date: date
    event_id: str


@dataclass(frozen=True)
class Exemption:
    granted: v.VolumeExemptionGranted
    event_id: str
    revoked: bool = False

    def covers(self, day: date) -> bool:
        return not self.revoked and self.granted.from_date <= day <= self.granted.to_date


@dataclass(frozen=True)
class Evaluation:
    event: v.PeriodEvaluated
    event_id: str


@dataclass(frozen=True)
class Suspension:
    event: v.SettlementSuspended
    event_id: str


@dataclass(frozen=True)
class VolumeState:
    institution_id: str
    contracts: dict[str, v.ContractTracked] = field(default_factory=dict)
    acceptances: dict[str, v.AcceptanceCounted] = field(default_factory=dict)
    evaluations: tuple[Evaluation, ...] = ()
    suspension: Suspension | None = None
    """The suspension in force, if any."""
    exemptions: dict[str, Exemption] = field(default_factory=dict)
    decisions: tuple[v.VolumeDecision, ...] = ()

    @property
    def last_evaluation(self) -> Evaluation | None:
        return self.evaluations[-1] if self.evaluations else None

    @property
    def region(self) -> str | None:
        latest = max(self.contracts.values(), key=lambda c: (c.cycle_start, c.contract_id), default=None)
        return latest.pooling_region_code if latest else None


# ---- arithmetic -------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def first_of_next_month(day: date) -> date:
    return add_months(day.replace(day=1), 1)


def period_ends(contract: v.ContractTracked, months: int = DEFAULT_MONTHS) -> list[date]:
    """The last day of each period of the contract's cycle, counted from ``cycle_start``."""
    ends: list[date] = []
    k = 1
    while True:
        end = add_months(contract.cycle_start, months * k) - timedelta(days=1)
        if end >= contract.cycle_end:
            ends.append(contract.cycle_end)
            return ends
        ends.append(end)
        k += 1


def cumulative_target(contract: v.ContractTracked, day: date, months: int = DEFAULT_MONTHS) -> Decimal:
    """agreed × k / n: k periods of n ended by ``day``."""
    ends = period_ends(contract, months)
    k = sum(1 for end in ends if end <= day)
    return Decimal(contract.agreed_quantity) * k / len(ends)


def accepted_by(state: VolumeState, contract_id: str, day: date) -> int:
    return sum(a.quantity for a in state.acceptances.values() if a.contract_id == contract_id and a.accepted_on <= day)


def completion(state: VolumeState, day: date, months: int = DEFAULT_MONTHS) -> tuple[Decimal, tuple[v.ContractCompletion, ...]]:
    """The institution's ratio at ``day`` (rounded down to 4 places) and each contract's part.

    Contracts count whose cycle holds ``day`` and one of whose periods has ended by it.
    Σ weight × min(1, accepted / target): over-buying one drug never hides another.
    """
    parts: list[tuple[v.ContractTracked, Decimal, int]] = []
    for c in sorted(state.contracts.values(), key=lambda c: c.contract_id):
        if not c.cycle_start <= day <= c.cycle_end:
            continue
        target = cumulative_target(c, day, months)
        if target > ZERO:
            parts.append((c, target, accepted_by(state, c.contract_id, day)))
    total = sum((target * c.unit_price for c, target, _ in parts), ZERO)
    lines: list[v.ContractCompletion] = []
    ratio = ZERO if total > ZERO else ONE
    for c, target, accepted in parts:
        capped = min(ONE, Decimal(accepted) / target)
        weight = target * c.unit_price / total if total > ZERO else ZERO
        ratio += weight * capped
        lines.append(
            v.ContractCompletion(
                contract_id=c.contract_id, product_id=c.product_id, target_quantity=_q(target, "0.01"),
                accepted_quantity=accepted, target_amount=_q(target * c.unit_price, "0.01"),
                accepted_amount=_q(accepted * c.unit_price, "0.01"), ratio=_q(capped), weight=_q(weight),
            )
        )
    return _q(min(ratio, ONE)), tuple(lines)


def _q(value: Decimal, places: str = "0.0001") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_DOWN)


def met_on(state: VolumeState, evaluation: v.PeriodEvaluated) -> date | None:
    """The date by which the evaluated cumulative targets were all met, counting acceptances by date."""
    latest = evaluation.period_end
    for line in evaluation.contracts:
        accepted = 0
        reached: date | None = None
        for a in sorted((a for a in state.acceptances.values() if a.contract_id == line.contract_id), key=lambda a: (a.accepted_on, a.acceptance_id)):
            accepted += a.quantity
            if accepted >= line.target_quantity:
                reached = a.accepted_on
                break
        if reached is None:
            return None
        latest = max(latest, reached)
    return latest


def institution_period_ends(state: VolumeState, months: int = DEFAULT_MONTHS) -> list[date]:
    return sorted({end for c in state.contracts.values() for end in period_ends(c, months)})


def pending_period_ends(state: VolumeState, day: date, since: date = date.min, months: int = DEFAULT_MONTHS) -> list[date]:
    """Period ends from ``since`` up to ``day`` not evaluated yet (never before the last evaluated one)."""
    last = state.last_evaluation.event.period_end if state.last_evaluation else None
    return [
        end for end in institution_period_ends(state, months) if since <= end <= day and (last is None or end > last)
    ]


def next_period_end(state: VolumeState, months: int = DEFAULT_MONTHS) -> date | None:
    """The next period end to evaluate (a deployment's ``since`` may skip some: they are skipped at the close)."""
    last = state.last_evaluation.event.period_end if state.last_evaluation else None
    return next((end for end in institution_period_ends(state, months) if last is None or end > last), None)


# ---- fold -------------------------------------------------------------------------------


def fold(institution_id: str, recorded: Iterable[Recorded]) -> VolumeState:
    state = VolumeState(institution_id)
    for event, event_id in recorded:
        state = evolve(state, event, event_id)
    return state


def evolve(state: VolumeState, event: v.VolumeEvent, event_id: str) -> VolumeState:
    if isinstance(event, v.ContractTracked):
        return replace(state, contracts={**state.contracts, event.contract_id: event})
    if isinstance(event, v.AcceptanceCounted):
        return replace(state, acceptances={**state.acceptances, event.acceptance_id: event})
    if isinstance(event, v.PeriodEvaluated):
        return replace(state, evaluations=(*state.evaluations, Evaluation(event, event_id)))
    if isinstance(event, v.VolumeExemptionGranted):
        return replace(state, exemptions={**state.exemptions, event.exemption_id: Exemption(event, event_id)})
    if isinstance(event, v.VolumeExemptionRevoked):
        kept = state.exemptions[event.exemption_id]
        return replace(state, exemptions={**state.exemptions, event.exemption_id: replace(kept, revoked=True)})
    decisions = (*state.decisions, event)
    if isinstance(event, v.SettlementSuspended):
        return replace(state, decisions=decisions, suspension=Suspension(event, event_id))
    if isinstance(event, v.SettlementResumed):
        return replace(state, decisions=decisions, suspension=None)
    return replace(state, decisions=decisions)


# ---- decisions --------------------------------------------------------------------------


def decide_on_contract(state: VolumeState, contract: v.ContractTracked) -> list[v.VolumeEvent]:
    """Track the contract; the same contract again records nothing, other facts are refused."""
    known = state.contracts.get(contract.contract_id)
    if known is None:
        return [contract]
    if known.model_copy(update={"contract_event_id": contract.contract_event_id}) == contract:
        return []
    raise Conflict(f"contract {contract.contract_id} is tracked already with other volume, price or cycle")


def decide_on_acceptance(state: VolumeState, acceptance: v.AcceptanceCounted) -> list[v.VolumeEvent]:
    """Count the acceptance once (a HIS pushing it twice, or a republished event, counts once)."""
    return [] if acceptance.acceptance_id in state.acceptances else [acceptance]


def decide_on_day_closed(
    state: VolumeState, day: ClosedDay, profile_for: ProfileFor, since: date = date.min
) -> list[v.VolumeEvent]:
    """The next stage due once ``day`` has closed: a resumption, or the evaluation of the next period end
    (period ends before ``since``, when the deployment started deciding R3, are never evaluated).

    One stage per call (a resumption names the event id of its suspension): record, fold, call again.
    """
    region = state.region
    if region is None:
        return []
    pending = pending_period_ends(state, day.business_date, since)
    if state.suspension is not None and state.last_evaluation is not None:
        met = met_on(state, state.last_evaluation.event)
        horizon = pending[0] if pending else day.business_date
        if met is not None and met <= horizon:
            resumed_on = max(met, state.last_evaluation.event.period_end + timedelta(days=1))
            return [_resumed(state, resumed_on, "target_met", (state.suspension.event_id, day.event_id))]
    if not pending:
        return []
    return _evaluate(state, pending[0], day, profile_for(region, pending[0]))


def _evaluate(state: VolumeState, period_end: date, day: ClosedDay, profile: PolicyProfile) -> list[v.VolumeEvent]:
    rule = profile.volume_completion
    months = MONTHS_PER_PERIOD.get(rule.period, DEFAULT_MONTHS) if rule else DEFAULT_MONTHS
    ratio, lines = completion(state, period_end, months)
    exemption = next((x for x in sorted(state.exemptions) if state.exemptions[x].covers(period_end)), None)
    evaluated = v.PeriodEvaluated(
        institution_id=state.institution_id, period_end=period_end, ratio=ratio, contracts=lines,
        profile_id=profile.profile_id if rule else None, profile_version=profile.version if rule else None,
        exemption_id=exemption, day_closed_event_id=day.event_id,
    )
    if rule is None or exemption is not None or not lines:
        return [evaluated]
    causes = (day.event_id, *(state.contracts[line.contract_id].contract_event_id for line in lines))
    common = {
        "institution_id": state.institution_id, "profile_id": profile.profile_id, "profile_version": profile.version,
        "caused_by": causes, "period_end": period_end, "ratio": ratio,
    }
    new: list[v.VolumeEvent] = [evaluated]
    key = f"{state.institution_id}-{period_end.isoformat()}"
    if ratio < rule.warning_below:
        new.append(v.VolumeCompletionWarned(decision_id=f"volume-warning-{key}", warning_below=rule.warning_below, **common))  # type: ignore[arg-type]
    if ratio < rule.suspend_below and state.suspension is None:
        new.append(
            v.SettlementSuspended(
                decision_id=f"volume-suspension-{key}", suspend_below=rule.suspend_below,
                suspended_from=first_of_next_month(period_end), **common,  # type: ignore[arg-type]
            )
        )
    return new


def _resumed(state: VolumeState, resumed_on: date, reason: str, causes: tuple[str, ...]) -> v.SettlementResumed:
    assert state.suspension is not None
    s = state.suspension.event
    last = state.last_evaluation.event if state.last_evaluation else None
    return v.SettlementResumed(
        decision_id=f"volume-resumption-{s.decision_id.removeprefix('volume-suspension-')}",
        institution_id=state.institution_id, profile_id=s.profile_id, profile_version=s.profile_version,
        caused_by=causes, period_end=last.period_end if last else s.period_end, ratio=last.ratio if last else s.ratio,
        suspension_decision_id=s.decision_id, resumed_on=resumed_on, reason=reason,
    )


def decide_on_grant(state: VolumeState, grant: v.VolumeExemptionGranted) -> list[v.VolumeEvent]:
    """Record an exemption (不可抗力); the same one again records nothing."""
    if grant.to_date < grant.from_date:
        raise RuleViolated("to", "must not be before from")
    known = state.exemptions.get(grant.exemption_id)
    if known is None:
        return [grant]
    if known.granted.model_copy(update={"granted_by": grant.granted_by}) == grant:
        return []
    raise Conflict(f"exemption {grant.exemption_id} is recorded already with other reason or dates")


def decide_resumption_by_exemption(state: VolumeState, exemption_id: str, today: date) -> list[v.VolumeEvent]:
    """An exemption covering the suspending period end resumes the suspension on ``today``."""
    exemption = state.exemptions.get(exemption_id)
    if state.suspension is None or exemption is None or not exemption.covers(state.suspension.event.period_end):
        return []
    return [_resumed(state, today, "exemption", (state.suspension.event_id, exemption.event_id))]


def decide_on_revoke(state: VolumeState, revoke: v.VolumeExemptionRevoked) -> list[v.VolumeEvent]:
    known = state.exemptions.get(revoke.exemption_id)
    if known is None:
        raise RuleViolated("exemption_id", f"no exemption {revoke.exemption_id} for institution {state.institution_id}")
    return [] if known.revoked else [revoke]
