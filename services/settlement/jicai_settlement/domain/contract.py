"""What settlement knows of a contract for its prepayments: the signing, the cycle end (moved by extensions), and
the acceptances and returns (验收, 退货) the volume trigger of a prepayment phase counts."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import singledispatch

from jicai_settlement.domain.events import AcceptanceNoted, ContractCycleMoved, ContractEvent, ContractNoted, ReturnNoted


@dataclass(frozen=True)
class Contract:
    noted: ContractNoted | None = None
    cycle_end: date | None = None
    acceptances: dict[str, AcceptanceNoted] = field(default_factory=dict)
    returns: dict[str, ReturnNoted] = field(default_factory=dict)


@singledispatch
def _evolve_contract(event: object, state: Contract) -> Contract:
    raise TypeError(f"not a contract event: {type(event).__name__}")


@_evolve_contract.register
def _(event: ContractNoted, state: Contract) -> Contract:
    return replace(state, noted=event, cycle_end=state.cycle_end or event.cycle_end)


@_evolve_contract.register
def _(event: ContractCycleMoved, state: Contract) -> Contract:
    return replace(state, cycle_end=event.cycle_end)


def fold_contract(history: Sequence[ContractEvent]) -> Contract:
    """Acceptances and returns go into the fold's own dicts (copying them per event made a long contract quadratic)."""
    state = Contract()
    for event in history:
        if isinstance(event, AcceptanceNoted):
            state.acceptances[event.acceptance_id] = event
        elif isinstance(event, ReturnNoted):
            state.returns[event.return_id] = event
        else:
            state = _evolve_contract(event, state)
    return state
