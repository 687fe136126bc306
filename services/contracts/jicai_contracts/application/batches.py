"""Use cases of batches (采购批次): publish with the profile's cycle rules, extend a cycle and the contracts that follow it."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters.tables import contracts, products
from jicai_contracts.application import payment_standards
from jicai_contracts.application.services import contract_stream
from jicai_contracts.domain import batch
from jicai_contracts.domain.errors import DomainRuleViolated
from jicai_contracts.domain.events import BatchCycleExtended, BatchLine, BatchPublished, ContractCycleExtended
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook
from jicai_policy.errors import NoProfileForRegion


def batch_stream(batch_id: str) -> str:
    return f"batch-{batch_id}"


async def publish_batch(uow: UnitOfWork, cmd: batch.PublishBatch, book: PolicyBook) -> bool:
    """Record a batch; its region's profile on the cycle start gives the cycle rules."""
    try:
        profile = book.profile_for(cmd.pooling_region_code, cmd.cycle_start)
    except NoProfileForRegion as exc:
        raise DomainRuleViolated("pooling_region_code", str(exc)) from None
    stream_id = batch_stream(cmd.batch_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = batch.publish(history, cmd, profile)
    await repo.streams.append(uow, stream_id, "batch", version, new)
    if new:  # the batch's region makes its groups' payment standards decidable (R6)
        await payment_standards.decide_batch(uow, cmd.batch_id, book)
    return bool(new)


async def extend_cycle(uow: UnitOfWork, cmd: batch.ExtendCycle, book: PolicyBook) -> bool:
    """Extend lines of a batch (within the profile's extendable years) and every contract still on the old cycle end."""
    stream_id = batch_stream(cmd.batch_id)
    history, version = await repo.streams.load(uow, stream_id)
    published = [e for e in history if isinstance(e, BatchPublished)]
    rules = book.get(published[0].profile_id, published[0].profile_version).cycle if published else None
    before = batch.current_lines(history)
    new = batch.extend(history, cmd, rules)
    await repo.streams.append(uow, stream_id, "batch", version, new)
    for extension in new:
        if isinstance(extension, BatchCycleExtended):
            await _extend_contracts(uow, extension, before, batch.current_lines([*history, extension]))
    return bool(new)


async def _extend_contracts(uow: UnitOfWork, extension: BatchCycleExtended, before: Sequence[BatchLine], after: Sequence[BatchLine]) -> None:
    query = select(contracts, products.c.generic_group_id).join(products, products.c.product_id == contracts.c.product_id).where(
        products.c.batch_id == extension.batch_id).order_by(contracts.c.contract_id)
    for row in (await uow.session.execute(query)).mappings().all():
        old, new = (batch.line_for(lines, row["product_id"], row["generic_group_id"]) for lines in (before, after))
        if old is None or new is None or old == new or row["cycle_end"] != old.cycle_end:
            continue
        stream_id = contract_stream(row["contract_id"])
        _, version = await repo.streams.load(uow, stream_id)
        event = ContractCycleExtended(
            contract_id=row["contract_id"], institution_id=row["institution_id"], pooling_region_code=row["pooling_region_code"],
            previous_cycle_end=old.cycle_end, cycle_end=new.cycle_end, extended_on=extension.extended_on, reason=extension.reason,
        )
        await repo.streams.append(uow, stream_id, "contract", version, [event])
