"""Exemptions (不可抗力) from volume completion (R3), and the resumption of a suspension: an exemption covering a
period end prevents its decisions; one covering the suspending period end resumes the suspension."""
from __future__ import annotations

from datetime import date

from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.volume_state import VolumeState
from jicai_events.rules import Conflict, RuleViolated


def resumed(state: VolumeState, resumed_on: date, reason: str, causes: tuple[str, ...]) -> v.SettlementResumed:
    """The resumption of the suspension in force: its cumulative target met, or an exemption covering its period end."""
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
    return [resumed(state, today, "exemption", (state.suspension.event_id, exemption.event_id))]


def decide_on_revoke(state: VolumeState, revoke: v.VolumeExemptionRevoked) -> list[v.VolumeEvent]:
    known = state.exemptions.get(revoke.exemption_id)
    if known is None:
        raise RuleViolated("exemption_id", f"no exemption {revoke.exemption_id} for institution {state.institution_id}")
    return [] if known.revoked else [revoke]
