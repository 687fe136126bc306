"""Use cases of yearly agreements (年度采购协议): amend, reallocate, roll over; count orders' acceptances and returns."""
from __future__ import annotations

from datetime import date

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters.tables import contracts
from jicai_contracts.application.services import agreement_stream
from jicai_contracts.domain import agreement, parties
from jicai_contracts.domain.errors import DomainRuleViolated
from jicai_contracts.domain.events import DeliveryAcceptanceCounted, DeliveryReturnCounted
from jicai_events.unit_of_work import UnitOfWork


async def _progress(uow: UnitOfWork, agreement_id: str) -> tuple[int, int]:
    """Net accepted and still owed on an agreement, from the acceptances counted so far."""
    rows = await repo.agreements(uow, agreement_id=agreement_id)
    if not rows:
        return 0, 0
    row = rows[0]
    net = row["accepted_quantity"] - row["returned_quantity"]
    return net, agreement.owed(row["agreed_quantity"], row["accepted_quantity"], row["returned_quantity"])


async def amend(uow: UnitOfWork, agreement_id: str, quantity: int, amended_on: date, reason: str) -> bool:
    stream_id = agreement_stream(agreement_id)
    history, version = await repo.streams.load(uow, stream_id)
    net, _ = await _progress(uow, agreement_id)
    new = agreement.amend(history, agreement_id, quantity, amended_on, reason, net)
    await repo.streams.append(uow, stream_id, "yearly_agreement", version, new)
    return bool(new)


async def reallocate(uow: UnitOfWork, cmd: agreement.Reallocate) -> bool:
    """Amend every agreement of a reallocation in one transaction: all of them or none."""
    stream_id = f"reallocation-{cmd.reallocation_id}"
    previous, version = await repo.streams.load(uow, stream_id)
    states, versions, net = {}, {}, {}
    for line in cmd.lines:
        history, versions[line.agreement_id] = await repo.streams.load(uow, agreement_stream(line.agreement_id))
        if history:
            states[line.agreement_id] = agreement.state(history, line.agreement_id)
        net[line.agreement_id], _ = await _progress(uow, line.agreement_id)
    new, amendments = agreement.reallocate(previous, cmd, states, net)
    await repo.streams.append(uow, stream_id, "reallocation", version, new)
    for agreement_id, amendment in amendments.items():
        await repo.streams.append(uow, agreement_stream(agreement_id), "yearly_agreement", versions[agreement_id], [amendment])
    return bool(new)


async def roll_over(uow: UnitOfWork, cmd: agreement.RollOver) -> tuple[str, bool]:
    """Sign the next year's agreement; returns its id and whether it is new."""
    previous, _ = await repo.streams.load(uow, agreement_stream(cmd.agreement_id))
    opening = agreement.state(previous, cmd.agreement_id).opening
    next_id = agreement.agreement_id(opening.contract_id, opening.agreement_year + 1)
    following, version = await repo.streams.load(uow, agreement_stream(next_id))
    contract = await repo.find(uow, contracts, opening.contract_id)
    if contract is None:
        raise DomainRuleViolated("agreement_id", f"contract {opening.contract_id} of {cmd.agreement_id} is unknown")
    _, owed = await _progress(uow, cmd.agreement_id)
    new = agreement.roll_over(previous, following, cmd, (contract["cycle_start"], contract["cycle_end"]), owed)
    await repo.streams.append(uow, agreement_stream(next_id), "yearly_agreement", version, new)
    return next_id, bool(new)


async def count_acceptance(uow: UnitOfWork, event: DeliveryAcceptanceCounted) -> None:
    """Count an acceptance once; the agreement year it counts in follows from ``accepted_on`` when read."""
    stream_id = f"acceptance-{event.acceptance_id}"
    history, version = await repo.streams.load(uow, stream_id)
    await repo.streams.append(uow, stream_id, "acceptance", version, parties.register(history, event))


async def count_return(uow: UnitOfWork, event: DeliveryReturnCounted) -> None:
    """Count a return once, against the acceptance (and so the agreement year) it returns goods of."""
    stream_id = f"return-{event.return_id}"
    history, version = await repo.streams.load(uow, stream_id)
    await repo.streams.append(uow, stream_id, "return", version, parties.register(history, event))
