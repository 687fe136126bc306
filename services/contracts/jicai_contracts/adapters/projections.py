"""Read models of the contracts service, folded from its domain events."""
from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatch

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_contracts.adapters import tables as t
from jicai_contracts.domain import events as e
from jicai_events.pgcopy import copy_rows
from jicai_events.streams import BulkProjector


@singledispatch
async def project(event: object, session: AsyncSession) -> None:
    raise TypeError(f"no projection for {type(event).__name__}")


@project.register
async def _(event: e.InstitutionRegistered, session: AsyncSession) -> None:
    await institutions_registered(session, [event])


async def institutions_registered(session: AsyncSession, events: Sequence[e.InstitutionRegistered]) -> None:
    """Registered institutions' rows in one COPY (a rebuild replays a province's hospitals by the thousand)."""
    await copy_rows(session, t.institutions, [
        {"institution_id": ev.institution_id, "name": ev.institution_name, "pooling_region_code": ev.pooling_region_code, "county_code": ev.county_code}
        for ev in events
    ])


@project.register
async def _(event: e.ManufacturerRegistered, session: AsyncSession) -> None:
    await session.execute(insert(t.manufacturers).values(manufacturer_id=event.manufacturer_id, name=event.manufacturer_name))


@project.register
async def _(event: e.DistributorRegistered, session: AsyncSession) -> None:
    await session.execute(insert(t.distributors).values(distributor_id=event.distributor_id, name=event.distributor_name))


@project.register
async def _(event: e.WinningProductListed, session: AsyncSession) -> None:
    await session.execute(insert(t.products).values(**event.model_dump(exclude={"name"})))


@project.register
async def _(event: e.GenericGroupDefined, session: AsyncSession) -> None:
    await session.execute(insert(t.generic_groups).values(**event.model_dump()))


@project.register
async def _(event: e.NonWinningProductListed, session: AsyncSession) -> None:
    await session.execute(insert(t.non_winning_products).values(**event.model_dump()))


@project.register
async def _(event: e.NonWinningProductPricedAbovePaymentStandard, session: AsyncSession) -> None:
    return None  # a fact for other parties (the insurance system); GET /payment-standards computes the standard from the listings


@project.register
async def _(event: e.ContractSigned, session: AsyncSession) -> None:
    await session.execute(insert(t.contracts).values(**event.model_dump()))


@project.register
async def _(event: e.VolumeAllocationDrafted, session: AsyncSession) -> None:
    values = event.model_dump(mode="json", exclude={"lines"}) | {
        "ratio": event.ratio, "status": "draft", "approved_on": None, "lines": [line.model_dump() for line in event.lines],
    }
    await session.execute(insert(t.allocations).values(**values).on_conflict_do_update(index_elements=["allocation_id"], set_=values))


@project.register
async def _(event: e.VolumeAllocationApproved, session: AsyncSession) -> None:
    await session.execute(
        update(t.allocations).where(t.allocations.c.allocation_id == event.allocation_id).values(status="approved", approved_on=event.approved_on)
    )


@project.register
async def _(event: e.BatchPublished, session: AsyncSession) -> None:
    await session.execute(insert(t.batches).values(**event.model_dump(mode="json")))


@project.register
async def _(event: e.BatchCycleExtended, session: AsyncSession) -> None:
    lines = (await session.execute(select(t.batches.c.lines).where(t.batches.c.batch_id == event.batch_id))).scalar_one()
    extended = {(line.generic_group_id, line.product_id): line.model_dump(mode="json") for line in event.lines}
    lines = [extended.get((line["generic_group_id"], line["product_id"]), line) for line in lines]
    await session.execute(update(t.batches).where(t.batches.c.batch_id == event.batch_id).values(lines=lines))


@project.register
async def _(event: e.ContractCycleExtended, session: AsyncSession) -> None:
    await session.execute(update(t.contracts).where(t.contracts.c.contract_id == event.contract_id).values(cycle_end=event.cycle_end))


@project.register
async def _(event: e.YearlyAgreementSigned, session: AsyncSession) -> None:
    await session.execute(insert(t.yearly_agreements).values(**event.model_dump()))


@project.register
async def _(event: e.YearlyAgreementRolledOver, session: AsyncSession) -> None:
    values = event.model_dump(exclude={"previous_agreement_id", "owed_quantity_at_rollover", "rolled_over_on"})
    await session.execute(insert(t.yearly_agreements).values(**values, signed_on=event.rolled_over_on))


@project.register
async def _(event: e.YearlyAgreementAmended, session: AsyncSession) -> None:
    agreement = t.yearly_agreements.c.agreement_id == event.agreement_id
    await session.execute(update(t.yearly_agreements).where(agreement).values(agreed_quantity=event.agreed_quantity))


@project.register
async def _(event: e.VolumeReallocated, session: AsyncSession) -> None:
    return None  # its effect is the amendments recorded with it


@project.register
async def _(event: e.DeliveryAcceptanceCounted, session: AsyncSession) -> None:
    await acceptances_counted(session, [event])


async def acceptances_counted(session: AsyncSession, events: Sequence[e.DeliveryAcceptanceCounted]) -> None:
    """Counted acceptances' rows in one COPY (a rebuild replays every acceptance of a province)."""
    await copy_rows(session, t.acceptances, [{**ev.model_dump(), "returned_quantity": 0} for ev in events])


@project.register
async def _(event: e.DeliveryReturnCounted, session: AsyncSession) -> None:
    acceptance = t.acceptances.c.acceptance_id == event.acceptance_id
    await session.execute(update(t.acceptances).where(acceptance).values(returned_quantity=t.acceptances.c.returned_quantity + event.returned_quantity))


@project.register
async def _(event: e.ManufacturerReportSubmitted, session: AsyncSession) -> None:
    await session.execute(insert(t.manufacturer_reports).values(**event.model_dump()))


async def apply(session: AsyncSession, event: e.ContractsEvent) -> None:
    await project(event, session)


BULK: dict[type[e.ContractsEvent], BulkProjector[e.ContractsEvent]] = {
    # Each projector takes the kind it is keyed by, a pairing a dict's value type cannot state.
    e.InstitutionRegistered: institutions_registered,  # type: ignore[dict-item]  # takes only InstitutionRegistered, its key
    e.DeliveryAcceptanceCounted: acceptances_counted,  # type: ignore[dict-item]  # takes only DeliveryAcceptanceCounted, its key
}
"""Set-based projections of the kinds a province records by the thousand (``StreamWriter.project_many``)."""
