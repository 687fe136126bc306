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

This module decides on the tracked facts and the closed days; the state and its fold are in ``volume_state``,
the period and target arithmetic in ``volume_periods``, exemptions and resumption in ``volume_exemptions``.
"""
from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.volume_exemptions import resumed
from jicai_alerts.domain.volume_periods import DEFAULT_MONTHS, MONTHS_PER_PERIOD, completion, first_of_next_month, met_on, pending_period_ends
from jicai_alerts.domain.volume_state import VolumeState
from jicai_events.rules import Conflict
from jicai_policy import PolicyProfile

ProfileFor = Callable[[str, date], PolicyProfile]
"""(pooling region, day) → the profile in force; may raise a PolicyError."""


@dataclass(frozen=True)
class ClosedDay:
    business_date: date
    event_id: str


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
            return [resumed(state, resumed_on, "target_met", (state.suspension.event_id, day.event_id))]
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


