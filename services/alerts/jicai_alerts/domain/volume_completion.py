"""One institution's completion of its agreed volumes (完成约定采购量, R3), Guizhou 000 §五(三).

"按照定点医疗机构中选药品的采购任务量设置季度采购及使用量，对完成设置任务量比例低于 80% 的
定点医疗机构提出预警，低于 70% 的定点医疗机构，自次月起暂停医保月结算 … 待其完成累计采购及
使用量后恢复月结算。如遇不可抗力因素时，另行处理。"

Targets come from the yearly agreements (年度采购协议, "约定采购量" is per agreement
year): the agreement of the contract whose year holds the day gives its agreed
volume. Periods (the profile's ``period``, a quarter) count from the agreement
year's start; the cumulative target at the end of period k of n is
agreed × k / n, agreed being the volume in force at that period end (an
amendment, 调整约定采购量, changes the targets of period ends from its
``amended_on`` on, never the ones before). Acceptances count from the agreement
year's start by ``accepted_on``; a return (退货) takes its quantity off its
acceptance from ``returned_on`` on. A contract without any yearly agreement
(streams recorded before agreements existed) uses its own agreed volume over its
whole cycle, as one "year" from ``cycle_start`` to ``cycle_end``. A contract year
without an agreement (not rolled over yet) has no target.

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

from collections.abc import Callable, Container, Iterable
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
class TargetYear:
    """One span with an agreed volume: a yearly agreement, or (without agreements) a contract's whole cycle."""

    contract_id: str
    product_id: str
    start: date
    end: date
    agreed_quantity: int
    unit_price: Decimal
    agreement_id: str | None = None
    source_event_id: str = ""
    amendments: tuple[tuple[v.AgreementAmended, str], ...] = ()
    """Sorted by ``amended_on``, with their event ids."""

    def agreed_on(self, day: date) -> int:
        """The agreed volume in force on ``day``: the latest amendment by then, else the signed one."""
        effective = [a for a, _ in self.amendments if a.amended_on <= day]
        return effective[-1].agreed_quantity if effective else self.agreed_quantity

    def event_ids(self, day: date) -> tuple[str, ...]:
        """The agreement (or contract) event and the amendments in force on ``day``."""
        return (self.source_event_id, *(a.amendment_event_id for a, _ in self.amendments if a.amended_on <= day))


@dataclass(frozen=True)
class VolumeState:
    institution_id: str
    contracts: dict[str, v.ContractTracked] = field(default_factory=dict)
    agreements: dict[str, tuple[v.AgreementTracked, str]] = field(default_factory=dict)
    amendments: tuple[tuple[v.AgreementAmended, str], ...] = ()
    acceptances: dict[str, v.AcceptanceCounted] = field(default_factory=dict)
    returns: dict[str, v.ReturnCounted] = field(default_factory=dict)
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
        spans = [(c.cycle_start, c.contract_id, c.pooling_region_code) for c in self.contracts.values()]
        spans += [(a.year_start, a.contract_id, a.pooling_region_code) for a, _ in self.agreements.values()]
        return max(spans)[2] if spans else None

    @property
    def contract_ids(self) -> list[str]:
        return sorted({*self.contracts, *(a.contract_id for a, _ in self.agreements.values())})

    def target_years(self, contract_id: str) -> list[TargetYear]:
        """The contract's yearly agreements by year start; without any, its cycle as one span."""
        agreements = sorted((a for a in self.agreements.values() if a[0].contract_id == contract_id), key=lambda a: a[0].year_start)
        if agreements:
            return [
                TargetYear(
                    contract_id=a.contract_id, product_id=a.product_id, start=a.year_start, end=a.year_end,
                    agreed_quantity=a.agreed_quantity, unit_price=a.unit_price, agreement_id=a.agreement_id,
                    source_event_id=a.agreement_event_id,
                    amendments=tuple(x for x in self.amendments if x[0].agreement_id == a.agreement_id),
                )
                for a, _ in agreements
            ]
        c = self.contracts.get(contract_id)
        if c is None:
            return []
        return [TargetYear(c.contract_id, c.product_id, c.cycle_start, c.cycle_end, c.agreed_quantity, c.unit_price, None, c.contract_event_id)]

    def target_year(self, contract_id: str, day: date) -> TargetYear | None:
        return next((y for y in self.target_years(contract_id) if y.start <= day <= y.end), None)


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


def _span(target: TargetYear | v.ContractTracked) -> TargetYear:
    if isinstance(target, TargetYear):
        return target
    c = target
    return TargetYear(c.contract_id, c.product_id, c.cycle_start, c.cycle_end, c.agreed_quantity, c.unit_price, None, c.contract_event_id)


def period_ends(target: TargetYear | v.ContractTracked, months: int = DEFAULT_MONTHS) -> list[date]:
    """The last day of each period of the agreement year (or cycle), counted from its start."""
    span = _span(target)
    ends: list[date] = []
    k = 1
    while True:
        end = add_months(span.start, months * k) - timedelta(days=1)
        if end >= span.end:
            ends.append(span.end)
            return ends
        ends.append(end)
        k += 1


def cumulative_target(target: TargetYear | v.ContractTracked, day: date, months: int = DEFAULT_MONTHS) -> Decimal:
    """agreed (in force on ``day``) × k / n: k periods of n ended by ``day``."""
    span = _span(target)
    ends = period_ends(span, months)
    k = sum(1 for end in ends if end <= day)
    return Decimal(span.agreed_on(day)) * k / len(ends)


def accepted_by(state: VolumeState, contract_id: str, day: date, since: date = date.min) -> int:
    """Accepted from ``since`` to ``day`` (by ``accepted_on``), less what was returned of them by ``day``."""
    total = 0
    for a in state.acceptances.values():
        if a.contract_id == contract_id and since <= a.accepted_on <= day:
            returned = sum(r.quantity for r in state.returns.values() if r.acceptance_id == a.acceptance_id and r.returned_on <= day)
            total += max(0, a.quantity - returned)
    return total


def completion(state: VolumeState, day: date, months: int = DEFAULT_MONTHS) -> tuple[Decimal, tuple[v.ContractCompletion, ...]]:
    """The institution's ratio at ``day`` (rounded down to 4 places) and each contract's part.

    Contracts count whose agreement year (or cycle) holds ``day`` and one of whose periods has ended by it.
    Σ weight × min(1, accepted / target): over-buying one drug never hides another.
    """
    parts: list[tuple[TargetYear, Decimal, int]] = []
    for contract_id in state.contract_ids:
        year = state.target_year(contract_id, day)
        if year is None:
            continue
        target = cumulative_target(year, day, months)
        if target > ZERO:
            parts.append((year, target, accepted_by(state, contract_id, day, year.start)))
    total = sum((target * y.unit_price for y, target, _ in parts), ZERO)
    lines: list[v.ContractCompletion] = []
    ratio = ZERO if total > ZERO else ONE
    for y, target, accepted in parts:
        capped = min(ONE, Decimal(accepted) / target)
        weight = target * y.unit_price / total if total > ZERO else ZERO
        ratio += weight * capped
        lines.append(
            v.ContractCompletion(
                contract_id=y.contract_id, product_id=y.product_id, target_quantity=_q(target, "0.01"),
                accepted_quantity=accepted, target_amount=_q(target * y.unit_price, "0.01"),
                accepted_amount=_q(accepted * y.unit_price, "0.01"), ratio=_q(capped), weight=_q(weight),
                agreement_id=y.agreement_id, counted_from=y.start if y.agreement_id else None, agreed_quantity=y.agreed_on(day),
            )
        )
    return _q(min(ratio, ONE)), tuple(lines)


def _q(value: Decimal, places: str = "0.0001") -> Decimal:
    return value.quantize(Decimal(places), rounding=ROUND_DOWN)


def met_on(state: VolumeState, evaluation: v.PeriodEvaluated, until: date = date.max) -> date | None:
    """The date from which the evaluated cumulative targets were all met (and stayed met up to ``until``),
    counting acceptances and returns by date."""
    latest = evaluation.period_end
    for line in evaluation.contracts:
        since = line.counted_from or date.min
        days = sorted(
            {a.accepted_on for a in state.acceptances.values() if a.contract_id == line.contract_id and since <= a.accepted_on <= until}
            | {r.returned_on for r in state.returns.values() if r.contract_id == line.contract_id and since <= r.returned_on <= until}
        )
        reached: date | None = None
        for day in days:
            met = accepted_by(state, line.contract_id, day, since) >= line.target_quantity
            reached = (reached or day) if met else None
        if reached is None:
            return None
        latest = max(latest, reached)
    return latest


def year_end_counts(state: VolumeState, year: int) -> list[tuple[TargetYear, int, int]]:
    """Each agreement year (or, without agreements, cycle) ending in ``year``: the agreed volume in force at its end
    and the quantity accepted within it (less returns), counted up to the agreed volume (Guizhou §五(五))."""
    counts: list[tuple[TargetYear, int, int]] = []
    for contract_id in state.contract_ids:
        for y in state.target_years(contract_id):
            if y.end.year == year:
                agreed = y.agreed_on(y.end)
                counts.append((y, agreed, min(agreed, accepted_by(state, contract_id, y.end, y.start))))
    return counts


def institution_period_ends(state: VolumeState, months: int = DEFAULT_MONTHS) -> list[date]:
    return sorted({end for c in state.contract_ids for y in state.target_years(c) for end in period_ends(y, months)})


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
    """Counted facts go into the fold's own dicts (copying them per event made a long history quadratic)."""
    state = VolumeState(institution_id)
    for event, event_id in recorded:
        if isinstance(event, v.AcceptanceCounted):
            state.acceptances[event.acceptance_id] = event
        elif isinstance(event, v.ReturnCounted):
            state.returns[event.return_id] = event
        else:
            state = evolve(state, event, event_id)
    return state


def evolve(state: VolumeState, event: v.VolumeEvent, event_id: str) -> VolumeState:
    if isinstance(event, v.ContractTracked):
        return replace(state, contracts={**state.contracts, event.contract_id: event})
    if isinstance(event, v.AgreementTracked):
        return replace(state, agreements={**state.agreements, event.agreement_id: (event, event_id)})
    if isinstance(event, v.AgreementAmended):
        return replace(state, amendments=tuple(sorted((*state.amendments, (event, event_id)), key=lambda a: a[0].amended_on)))
    if isinstance(event, v.AcceptanceCounted):
        return replace(state, acceptances={**state.acceptances, event.acceptance_id: event})
    if isinstance(event, v.ReturnCounted):
        return replace(state, returns={**state.returns, event.return_id: event})
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


def decide_on_agreement(state: VolumeState, agreement: v.AgreementTracked) -> list[v.VolumeEvent]:
    """Track the yearly agreement; the same one again records nothing, other facts are refused."""
    known = state.agreements.get(agreement.agreement_id)
    if known is None:
        return [agreement]
    if known[0].model_copy(update={"agreement_event_id": agreement.agreement_event_id}) == agreement:
        return []
    raise Conflict(f"agreement {agreement.agreement_id} is tracked already with other volume, price or dates")


def decide_on_amendment(state: VolumeState, amendment: v.AgreementAmended) -> list[v.VolumeEvent]:
    """Record the amendment once (the same amendment republished under another event id counts once)."""
    same = amendment.model_dump(exclude={"amendment_event_id"})
    return [] if any(a.model_dump(exclude={"amendment_event_id"}) == same for a, _ in state.amendments) else [amendment]


def decide_on_acceptance(counted: Container[str], acceptance: v.AcceptanceCounted) -> list[v.VolumeEvent]:
    """Count the acceptance once (a HIS pushing it twice, or a republished event, counts once).

    ``counted``: the acceptance ids counted already (``state.acceptances``, or the keyed lookup of this one)."""
    return [] if acceptance.acceptance_id in counted else [acceptance]


def decide_on_return(counted: Container[str], returned: v.ReturnCounted) -> list[v.VolumeEvent]:
    """Count the return once (``counted``: the return ids counted already); it may arrive before its acceptance
    (it applies once that is known)."""
    return [] if returned.return_id in counted else [returned]


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
        horizon = pending[0] if pending else day.business_date
        met = met_on(state, state.last_evaluation.event, horizon)
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
    causes = (day.event_id, *_target_causes(state, lines, period_end))
    new: list[v.VolumeEvent] = [evaluated]
    key = f"{state.institution_id}-{period_end.isoformat()}"
    if ratio < rule.warning_below:
        new.append(v.VolumeCompletionWarned(
            decision_id=f"volume-warning-{key}", warning_below=rule.warning_below, institution_id=state.institution_id,
            profile_id=profile.profile_id, profile_version=profile.version, caused_by=causes, period_end=period_end, ratio=ratio,
        ))
    if ratio < rule.suspend_below and state.suspension is None:
        new.append(v.SettlementSuspended(
            decision_id=f"volume-suspension-{key}", suspend_below=rule.suspend_below, suspended_from=first_of_next_month(period_end),
            institution_id=state.institution_id, profile_id=profile.profile_id, profile_version=profile.version, caused_by=causes,
            period_end=period_end, ratio=ratio,
        ))
    return new


def _target_causes(state: VolumeState, lines: Iterable[v.ContractCompletion], period_end: date) -> list[str]:
    """The events behind each target: the contract, its agreement and the amendments in force."""
    causes: list[str] = []
    for line in lines:
        contract = state.contracts.get(line.contract_id)
        year = state.target_year(line.contract_id, period_end)
        ids = ((contract.contract_event_id,) if contract else ()) + (year.event_ids(period_end) if year else ())
        causes += ids
    return list(dict.fromkeys(causes))


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
