"""An institution's settlement state (R2 withholds, R3 suspensions, the fund's monthly settlements), and its one fold.

The decisions on this state (``institution_settlement``) and every read of an
institution's settlements fold its stream here, once.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from functools import singledispatch
from typing import Literal

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
