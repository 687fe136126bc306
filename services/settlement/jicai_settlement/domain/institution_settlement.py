"""An institution's monthly insurance settlement: withheld while it owes overdue payments (R2).

Guizhou 000 §五(三): still unpaid 10 working days after the warning, the
institution's monthly settlement is withheld (暂缓拨付); once it has paid,
the withhold is lifted. The alerts service takes those decisions; here they
are folded with the monthly settlements the fund reports, so that:

- a settlement reported while at least one withhold is active is ``withheld``,
  with the decisions behind it as the reason;
- when the last active withhold is lifted, every withheld settlement becomes
  ``released`` on the release decision's date, keeping its reason.

R3 (Guizhou 000 §五(三)): completion below the suspension line suspends the
monthly settlement "自次月起" until the cumulative target is met. Mirroring the
withholds:

- a settlement reported for a month on or after an active suspension's
  ``suspended_from`` is ``suspended`` (even if also withheld: both decisions
  are named), with the decision, ratio and period as the reason;
- a held (withheld or suspended) settlement is released once neither kind
  holds it any more: no active withhold if it was withheld, no active
  suspension if it was suspended; on the date of the lifting decision.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TypeVar

from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    DirectSettlementDeducted,
    InstitutionSettlementEvent,
    MonthlySettlementRecorded,
    MonthlySettlementReleased,
    SuspensionLifted,
    SuspensionRecorded,
    WithholdLifted,
    WithholdRecorded,
)
from jicai_settlement.domain.settlement_state import InstitutionSettlement, Suspension, Withhold, evolve, fold

NO_WITHHOLD_REASON = "no settlement withhold was active when it was reported"

# ---- commands -----------------------------------------------------------------


@dataclass(frozen=True)
class RecordWithhold:
    institution_id: str
    decision_id: str
    invoice_id: str
    warned_on: date
    withheld_from: date
    outstanding_amount: Decimal
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


@dataclass(frozen=True)
class LiftWithhold:
    institution_id: str
    release_decision_id: str
    withhold_decision_id: str
    invoice_id: str
    released_on: date
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]
    reason: str = "paid"
    """paid | credited | voided: why nothing is owed on the invoice any more"""


RELEASE_REASONS = {"paid": "the invoice was paid (回款后恢复拨付)", "credited": "credit notes left nothing owed (红冲)",
                   "voided": "the invoice was voided (红冲)"}


@dataclass(frozen=True)
class RecordSuspension:
    institution_id: str
    decision_id: str
    period_end: date
    ratio: Decimal
    suspend_below: Decimal
    suspended_from: date
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


@dataclass(frozen=True)
class LiftSuspension:
    institution_id: str
    resume_decision_id: str
    suspension_decision_id: str
    resumed_on: date
    reason: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


@dataclass(frozen=True)
class ReportMonthlySettlement:
    settlement_id: str
    institution_id: str
    month: str
    amount: Decimal


# ---- decisions --------------------------------------------------------------------


Held = TypeVar("Held", Withhold, Suspension)


def _record_once(known: Withhold | Suspension | None, event: WithholdRecorded | SuspensionRecorded, what: str) -> list[InstitutionSettlementEvent]:
    """A decision is recorded once; the same decision again records nothing, a different one under its id is refused."""
    if known is None:
        return [event]
    if known.recorded == event:
        return []
    raise AlreadyExists(f"{what} decision {event.decision_id} was recorded already with different content")


def _held(recorded: dict[str, Held], decision_id: str, field_name: str, what: str, institution_id: str) -> Held | None:
    """The recorded decision to lift; None when it was lifted already (a repeated lifting changes nothing)."""
    known = recorded.get(decision_id)
    if known is None:
        raise DomainRuleViolated(field_name, f"no {what} decision {decision_id} is recorded for institution {institution_id}")
    return known if known.active else None


def withhold(history: Sequence[InstitutionSettlementEvent], cmd: RecordWithhold) -> list[InstitutionSettlementEvent]:
    """Decide: record a withhold decision; the same decision again records nothing."""
    return _record_once(fold(history).withholds.get(cmd.decision_id), WithholdRecorded(**cmd.__dict__), "withhold")


def lift(history: Sequence[InstitutionSettlementEvent], cmd: LiftWithhold) -> list[InstitutionSettlementEvent]:
    """Decide: lift a withhold; when it was the last active one, release every withheld settlement."""
    state = fold(history)
    known = _held(state.withholds, cmd.withhold_decision_id, "withhold_decision_id", "withhold", cmd.institution_id)
    if known is None:
        return []
    events: list[InstitutionSettlementEvent] = [
        WithholdLifted(
            institution_id=cmd.institution_id,
            decision_id=cmd.withhold_decision_id,
            invoice_id=known.recorded.invoice_id,
            release_decision_id=cmd.release_decision_id,
            released_on=cmd.released_on,
            profile_id=cmd.profile_id,
            profile_version=cmd.profile_version,
            caused_by=cmd.caused_by,
        )
    ]
    why = f"withhold {cmd.withhold_decision_id} lifted by release decision {cmd.release_decision_id}: {RELEASE_REASONS.get(cmd.reason, cmd.reason)}"
    return events + _releases(evolve(events[0], state), cmd.institution_id, cmd.released_on, cmd.release_decision_id, why)


def _releases(
    after: InstitutionSettlement, institution_id: str, on: date, decision_id: str, why: str
) -> list[InstitutionSettlementEvent]:
    """Held settlements nothing holds back any more (no active withhold / suspension of the kind that held them)."""
    withheld, suspended = bool(after.active_withholds), bool(after.active_suspensions)
    return [
        MonthlySettlementReleased(
            institution_id=institution_id, settlement_id=s.settlement_id, released_on=on, release_decision_id=decision_id,
            month=s.month, amount=s.amount, reason=why,
        )
        for s in after.settlements.values()
        if s.held and not (s.withheld_by and withheld) and not (s.suspended_by and suspended)
    ]


def deduct(history: Sequence[InstitutionSettlementEvent], deducted: DirectSettlementDeducted) -> list[InstitutionSettlementEvent]:
    """Decide: a direct settlement (直接结算) is deducted from the monthly settlement of the month it was paid in, once.

    Whether the month's settlement is reported before or after, its view shows
    the reported amount, the deductions and the net paid.
    """
    return [] if deducted.payment_id in fold(history).deductions else [deducted]


def suspend(history: Sequence[InstitutionSettlementEvent], cmd: RecordSuspension) -> list[InstitutionSettlementEvent]:
    """Decide: record a suspension decision (R3); the same decision again records nothing."""
    return _record_once(fold(history).suspensions.get(cmd.decision_id), SuspensionRecorded(**cmd.__dict__), "suspension")


def resume(history: Sequence[InstitutionSettlementEvent], cmd: LiftSuspension) -> list[InstitutionSettlementEvent]:
    """Decide: lift a suspension; release every held settlement nothing else holds back."""
    state = fold(history)
    if _held(state.suspensions, cmd.suspension_decision_id, "suspension_decision_id", "suspension", cmd.institution_id) is None:
        return []
    lifted = SuspensionLifted(
        institution_id=cmd.institution_id, decision_id=cmd.suspension_decision_id, resume_decision_id=cmd.resume_decision_id,
        resumed_on=cmd.resumed_on, reason=cmd.reason, profile_id=cmd.profile_id, profile_version=cmd.profile_version,
        caused_by=cmd.caused_by,
    )
    why = f"suspension {cmd.suspension_decision_id} lifted by decision {cmd.resume_decision_id} ({cmd.reason}, 恢复月结算)"
    return [lifted, *_releases(evolve(lifted, state), cmd.institution_id, cmd.resumed_on, cmd.resume_decision_id, why)]


def report(history: Sequence[InstitutionSettlementEvent], cmd: ReportMonthlySettlement) -> list[InstitutionSettlementEvent]:
    """Decide: a reported monthly settlement is withheld while any withhold is active, else issued."""
    state = fold(history)
    known = state.settlements.get(cmd.settlement_id)
    if known is not None:
        if (known.month, known.amount) == (cmd.month, cmd.amount):
            return []
        raise AlreadyExists(f"monthly settlement {cmd.settlement_id} was reported already with different content")
    active = state.active_withholds
    suspending = [x for x in state.active_suspensions if cmd.month >= x.suspended_from.strftime("%Y-%m")]
    if suspending:
        reasons = [suspended_reason(suspending), *([withheld_reason(active)] if active else [])]
        return [
            MonthlySettlementRecorded(
                **cmd.__dict__, status="suspended", reason="; ".join(reasons),
                withheld_by=tuple(w.decision_id for w in active), suspended_by=tuple(x.decision_id for x in suspending),
            )
        ]
    if not active:
        return [MonthlySettlementRecorded(**cmd.__dict__, status="issued", reason=NO_WITHHOLD_REASON)]
    return [
        MonthlySettlementRecorded(
            **cmd.__dict__, status="withheld", reason=withheld_reason(active), withheld_by=tuple(w.decision_id for w in active)
        )
    ]


def suspended_reason(active: Sequence[SuspensionRecorded]) -> str:
    causes = "; ".join(
        f"decision {x.decision_id}: agreed volume {x.ratio:.2%} complete at {x.period_end} (below {x.suspend_below:.0%}), "
        f"suspended from {x.suspended_from} under {x.profile_id} v{x.profile_version}"
        for x in active
    )
    return f"suspended (暂停医保月结算) until the cumulative agreed volume is bought: {causes}"


def withheld_reason(active: Sequence[WithholdRecorded]) -> str:
    causes = "; ".join(
        f"decision {w.decision_id}: invoice {w.invoice_id} unpaid ({w.outstanding_amount} outstanding), "
        f"warned on {w.warned_on}, withheld from {w.withheld_from} under {w.profile_id} v{w.profile_version}"
        for w in active
    )
    return f"withheld (暂缓拨付) until the overdue invoices are paid: {causes}"
