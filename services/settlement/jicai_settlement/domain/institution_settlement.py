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
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import Literal, TypeVar

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


# ---- state ------------------------------------------------------------------------


@dataclass(frozen=True)
class Withhold:
    recorded: WithholdRecorded
    lifted: WithholdLifted | None = None

    @property
    def active(self) -> bool:
        return self.lifted is None


@dataclass(frozen=True)
class Suspension:
    recorded: SuspensionRecorded
    lifted: SuspensionLifted | None = None

    @property
    def active(self) -> bool:
        return self.lifted is None


MonthlySettlementStatus = Literal["issued", "withheld", "suspended", "released"]


@dataclass(frozen=True)
class MonthlySettlement:
    settlement_id: str
    month: str
    amount: Decimal
    status: MonthlySettlementStatus
    reason: str
    withheld_by: tuple[str, ...] = ()
    released_on: date | None = None
    release_decision_id: str | None = None
    suspended_by: tuple[str, ...] = ()

    @property
    def held(self) -> bool:
        return self.status in ("withheld", "suspended")


@dataclass(frozen=True)
class InstitutionSettlement:
    withholds: dict[str, Withhold] = field(default_factory=dict)
    settlements: dict[str, MonthlySettlement] = field(default_factory=dict)
    suspensions: dict[str, Suspension] = field(default_factory=dict)
    deductions: dict[str, DirectSettlementDeducted] = field(default_factory=dict)

    @property
    def active_withholds(self) -> list[WithholdRecorded]:
        return [w.recorded for w in self.withholds.values() if w.active]

    @property
    def active_suspensions(self) -> list[SuspensionRecorded]:
        return [x.recorded for x in self.suspensions.values() if x.active]

    @property
    def status(self) -> Literal["withheld", "suspended", "withheld_and_suspended", "normal"]:
        return combined_status(bool(self.active_withholds), bool(self.active_suspensions))


def combined_status(withheld: bool, suspended: bool) -> Literal["withheld", "suspended", "withheld_and_suspended", "normal"]:
    if withheld and suspended:
        return "withheld_and_suspended"
    return "withheld" if withheld else "suspended" if suspended else "normal"


@singledispatch
def evolve(event: object, state: InstitutionSettlement) -> InstitutionSettlement:
    raise TypeError(f"not an institution settlement event: {type(event).__name__}")


@evolve.register
def _(event: WithholdRecorded, state: InstitutionSettlement) -> InstitutionSettlement:
    return replace(state, withholds={**state.withholds, event.decision_id: Withhold(event)})


@evolve.register
def _(event: WithholdLifted, state: InstitutionSettlement) -> InstitutionSettlement:
    lifted = replace(state.withholds[event.decision_id], lifted=event)
    return replace(state, withholds={**state.withholds, event.decision_id: lifted})


@evolve.register
def _(event: SuspensionRecorded, state: InstitutionSettlement) -> InstitutionSettlement:
    return replace(state, suspensions={**state.suspensions, event.decision_id: Suspension(event)})


@evolve.register
def _(event: SuspensionLifted, state: InstitutionSettlement) -> InstitutionSettlement:
    lifted = replace(state.suspensions[event.decision_id], lifted=event)
    return replace(state, suspensions={**state.suspensions, event.decision_id: lifted})


@evolve.register
def _(event: MonthlySettlementRecorded, state: InstitutionSettlement) -> InstitutionSettlement:
    settlement = MonthlySettlement(
        event.settlement_id, event.month, event.amount, event.status, event.reason, event.withheld_by,
        suspended_by=event.suspended_by,
    )
    return replace(state, settlements={**state.settlements, event.settlement_id: settlement})


@evolve.register
def _(event: MonthlySettlementReleased, state: InstitutionSettlement) -> InstitutionSettlement:
    released = replace(
        state.settlements[event.settlement_id],
        status="released",
        released_on=event.released_on,
        release_decision_id=event.release_decision_id,
    )
    return replace(state, settlements={**state.settlements, event.settlement_id: released})


@evolve.register
def _(event: DirectSettlementDeducted, state: InstitutionSettlement) -> InstitutionSettlement:
    return replace(state, deductions={**state.deductions, event.payment_id: event})


def fold(history: Sequence[InstitutionSettlementEvent]) -> InstitutionSettlement:
    state = InstitutionSettlement()
    for event in history:
        state = evolve(event, state)
    return state


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
