"""One institution's volume-completion state (R3): its contracts, yearly agreements and amendments, the facts
counted, the periods evaluated, the suspension in force and the exemptions; and the one fold that builds it."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from jicai_alerts.domain import volume_events as v

Recorded = tuple[v.VolumeEvent, str]


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
