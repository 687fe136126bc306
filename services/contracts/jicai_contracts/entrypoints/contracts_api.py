"""Volume contracts (带量购销合同) and the allocation (任务量分解) of agreed volumes they are signed with."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters import tables as t
from jicai_contracts.adapters.policy import policy_book
from jicai_contracts.application import services
from jicai_contracts.domain.allocation import AllocationMethod, Basis, DraftAllocation
from jicai_contracts.domain.contract import SignContract
from jicai_contracts.entrypoints import schemas as s
from jicai_contracts.entrypoints.common import add_readers, decidable, jsonable, own_filters
from jicai_kit.auth import SEES_ALL, Caller, Role
from jicai_kit.commands import Recorded, query, record
from jicai_kit.problems import not_found

router = APIRouter()


@router.post("/contracts", tags=["contracts"], status_code=201, response_model=Recorded)
async def sign_contract(body: s.ContractIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Sign a volume contract (带量购销合同) at the winning price with an agreed volume (约定采购量)."""
    caller.require(Role.OPERATOR)
    await decidable(request, {"signed_on": body.signed_on}, of=(t.institutions, body.institution_id), region_field="institution_id",
                     terms={"cycle_start": body.cycle_start, "cycle_end": body.cycle_end})
    cmd = SignContract(**body.model_dump())
    return await record(request.app.state.runtime, response, body.contract_id, lambda uow: services.sign_contract(uow, cmd))


add_readers(router, "contracts", ("/contracts/{key}", t.contracts, "contract"))


@router.get("/contracts", tags=["contracts"], summary="Contracts, optionally of one institution; a party sees its own")
async def list_contracts(caller: Caller, request: Request, institution_id: str | None = None) -> list[dict[str, Any]]:
    filters = own_filters(caller, {"institution_id": institution_id} if institution_id else {})
    if filters is None:
        return []
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.contracts, **filters))
    return [jsonable(r) for r in rows]


@router.post("/volume-allocations", tags=["allocation"], status_code=201, response_model=Recorded)
async def draft_volume_allocation(body: s.AllocationIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Draft a decomposition (任务量分解) of a product's agreed volume to institutions, for review.

    The region's profile in force on 1 January of the agreement year decides the method and the county grouping;
    omitted, they are taken from it. Whole trading units; the parts add up exactly to the total (largest-remainder rounding).
    """
    caller.require(Role.OPERATOR)
    cmd = DraftAllocation(
        allocation_id=body.allocation_id, product_id=body.product_id, agreement_year=body.agreement_year,
        pooling_region_code=body.pooling_region_code, method=AllocationMethod(body.method) if body.method else None,
        total=body.total, ratio=body.ratio, group_by_county=body.group_by_county,
        bases=tuple(Basis(b.institution_id, "", b.quantity) for b in body.bases),
    )
    return await record(request.app.state.runtime, response, body.allocation_id, lambda uow: services.draft_allocation(uow, cmd, policy_book()))


@router.post("/volume-allocations/{allocation_id}/approval", tags=["allocation"], status_code=201, response_model=Recorded)
async def approve_volume_allocation(
    allocation_id: str, body: s.ApprovalIn, caller: Caller, request: Request, response: Response
) -> Recorded:
    """Approve a reviewed allocation: its volumes become the agreed volumes contracts are signed with."""
    caller.require(Role.OPERATOR)
    await decidable(request, {"approved_on": body.approved_on}, of=(t.allocations, allocation_id))
    return await record(request.app.state.runtime, response, allocation_id, lambda uow: services.approve_allocation(uow, allocation_id, body.approved_on))


@router.get("/volume-allocations/{allocation_id}", tags=["allocation"], summary="An allocation with every institution's volume")
async def get_volume_allocation(allocation_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    row = await query(request.app.state.runtime, lambda uow: repo.find(uow, t.allocations, allocation_id))
    if row is None:
        raise not_found("volume allocation", allocation_id)
    if caller.role not in SEES_ALL:  # an institution sees its own line only
        row["lines"] = [line for line in row["lines"] if line["institution_id"] == caller.party_id]
    return jsonable(row)
