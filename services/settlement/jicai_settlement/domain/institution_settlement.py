"""An institution's monthly insurance settlement: withheld while it owes overdue payments (R2).

Guizhou 000 §五(三): still unpaid 10 working days after the warning, the
institution's monthly settlement is withheld (暂缓拨付); once it has paid,
the withhold is lifted. The alerts service takes those decisions; here they
are folded with the monthly settlements the fund reports, so that:

- a settlement reported while at least one withhold is active is ``withheld``,
  with the decisions behind it as the reason;
- when the last active withhold is lifted, every withheld settlement becomes
  ``released`` on the release decision's date, keeping its reason.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import Literal

from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    InstitutionSettlementEvent,
    MonthlySettlementRecorded,
    MonthlySettlementReleased,
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
class MonthlySettlement:
    settlement_id: str
    month: str
    amount: Decimal
    status: Literal["issued", "withheld", "released"]
    reason: str
    withheld_by: tuple[str, ...] = ()
    released_on: date | None = None
    release_decision_id: str | None = None


@dataclass(frozen=True)
class InstitutionSettlement:
    withholds: dict[str, Withhold] = field(default_factory=dict)
    settlements: dict[str, MonthlySettlement] = field(default_factory=dict)

    @property
    def active_withholds(self) -> list[WithholdRecorded]:
        return [w.recorded for w in self.withholds.values() if w.active]

    @property
    def status(self) -> Literal["withheld", "normal"]:
        return "withheld" if self.active_withholds else "normal"


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
def _(event: MonthlySettlementRecorded, state: InstitutionSettlement) -> InstitutionSettlement:
    settlement = MonthlySettlement(event.settlement_id, event.month, event.amount, event.status, event.reason, event.withheld_by)
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


def fold(history: Sequence[InstitutionSettlementEvent]) -> InstitutionSettlement:
    state = InstitutionSettlement()
    for event in history:
        state = evolve(event, state)
    return state


# ---- decisions --------------------------------------------------------------------


def withhold(history: Sequence[InstitutionSettlementEvent], cmd: RecordWithhold) -> list[InstitutionSettlementEvent]:
    """Decide: record a withhold decision; the same decision again records nothing."""
    event = WithholdRecorded(**cmd.__dict__)
    known = fold(history).withholds.get(cmd.decision_id)
    if known is None:
        return [event]
    if known.recorded == event:
        return []
    raise AlreadyExists(f"withhold decision {cmd.decision_id} was recorded already with different content")


def lift(history: Sequence[InstitutionSettlementEvent], cmd: LiftWithhold) -> list[InstitutionSettlementEvent]:
    """Decide: lift a withhold; when it was the last active one, release every withheld settlement."""
    state = fold(history)
    known = state.withholds.get(cmd.withhold_decision_id)
    if known is None:
        raise DomainRuleViolated(
            "withhold_decision_id",
            f"no withhold decision {cmd.withhold_decision_id} is recorded for institution {cmd.institution_id}",
        )
    if not known.active:
        return []  # lifted already (a repeated or second release decision changes nothing)
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
    still_active = [w for w in state.active_withholds if w.decision_id != cmd.withhold_decision_id]
    if not still_active:
        events += [
            MonthlySettlementReleased(
                institution_id=cmd.institution_id,
                settlement_id=s.settlement_id,
                released_on=cmd.released_on,
                release_decision_id=cmd.release_decision_id,
            )
            for s in state.settlements.values()
            if s.status == "withheld"
        ]
    return events


def report(history: Sequence[InstitutionSettlementEvent], cmd: ReportMonthlySettlement) -> list[InstitutionSettlementEvent]:
    """Decide: a reported monthly settlement is withheld while any withhold is active, else issued."""
    state = fold(history)
    known = state.settlements.get(cmd.settlement_id)
    if known is not None:
        if (known.month, known.amount) == (cmd.month, cmd.amount):
            return []
        raise AlreadyExists(f"monthly settlement {cmd.settlement_id} was reported already with different content")
    active = state.active_withholds
    if not active:
        return [MonthlySettlementRecorded(**cmd.__dict__, status="issued", reason=NO_WITHHOLD_REASON)]
    return [
        MonthlySettlementRecorded(
            **cmd.__dict__, status="withheld", reason=withheld_reason(active), withheld_by=tuple(w.decision_id for w in active)
        )
    ]


def withheld_reason(active: Sequence[WithholdRecorded]) -> str:
    causes = "; ".join(
        f"decision {w.decision_id}: invoice {w.invoice_id} unpaid ({w.outstanding_amount} outstanding), "
        f"warned on {w.warned_on}, withheld from {w.withheld_from} under {w.profile_id} v{w.profile_version}"
        for w in active
    )
    return f"withheld (暂缓拨付) until the overdue invoices are paid: {causes}"
