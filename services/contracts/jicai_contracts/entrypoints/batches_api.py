"""Procurement batches (采购批次): publishing one and extending its cycle (延长采购周期)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from jicai_contracts.adapters import tables as t
from jicai_contracts.adapters.policy import policy_book
from jicai_contracts.application import batches
from jicai_contracts.domain.batch import ExtendCycle, LineIn, PublishBatch
from jicai_contracts.entrypoints import schemas as s
from jicai_contracts.entrypoints.common import add_readers, decidable
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, record

router = APIRouter()


@router.post("/batches", tags=["batches"], status_code=201, response_model=Recorded)
async def publish_batch(body: s.BatchIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Publish a procurement batch (采购批次): each line's cycle (采购周期) from the region's profile and its winning companies."""
    caller.require(Role.OPERATOR)
    await decidable(request, {}, region=body.pooling_region_code, terms={"cycle_start": body.cycle_start}, region_field="pooling_region_code")
    cmd = PublishBatch(body.batch_id, body.title, body.pooling_region_code, body.cycle_start,
                       tuple(LineIn(**line.model_dump()) for line in body.lines))
    return await record(request.app.state.runtime, response, body.batch_id, lambda uow: batches.publish_batch(uow, cmd, policy_book()))


@router.post("/batches/{batch_id}/cycle-extensions", tags=["batches"], status_code=201, response_model=Recorded)
async def extend_cycle(batch_id: str, body: s.CycleExtensionIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Extend the cycle (延长采购周期) of a line or the whole batch within the profile's extendable years;
    each contract on the old cycle end records ContractCycleExtended."""
    caller.require(Role.OPERATOR)
    await decidable(request, {"extended_on": body.extended_on}, of=(t.batches, batch_id))
    cmd = ExtendCycle(batch_id=batch_id, **body.model_dump())
    return await record(request.app.state.runtime, response, body.extension_id, lambda uow: batches.extend_cycle(uow, cmd, policy_book()))


add_readers(router, "batches", ("/batches/{key}", t.batches, "batch"))
