"""Yearly agreements (年度采购协议): reads with what is still owed, amendments, reallocations between institutions,
and rollover (续签) into the next year."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters import tables as t
from jicai_contracts.application import agreements
from jicai_contracts.domain import agreement as ag
from jicai_contracts.domain import events as e
from jicai_contracts.entrypoints import schemas as s
from jicai_contracts.entrypoints.common import decidable, jsonable, own_filters, reader
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, execute, query, record
from jicai_kit.problems import not_found

router = APIRouter()


def _created(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


def _agreement_view(row: dict[str, Any]) -> dict[str, Any]:
    owed = ag.owed(row["agreed_quantity"], row["accepted_quantity"], row["returned_quantity"])
    return jsonable(row) | {"owed_quantity": owed}


async def _agreement(request: Request, caller: Caller, agreement_id: str) -> dict[str, Any]:
    rows = await query(request.app.state.runtime, lambda uow: repo.agreements(uow, agreement_id=agreement_id))
    if not rows:
        raise not_found("yearly agreement", agreement_id)
    row = rows[0]
    caller.may_read(what=f"yearly agreement {agreement_id}", institution_id=row["institution_id"],
                    distributor_id=row["distributor_id"], manufacturer_id=row["manufacturer_id"])
    return row


@router.get("/yearly-agreements/{agreement_id}", tags=["yearly agreements"],
            summary="A yearly agreement (年度采购协议): agreed, accepted, returned and still owed quantity")
async def get_yearly_agreement(agreement_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    return _agreement_view(await _agreement(request, caller, agreement_id))


@router.get("/contracts/{contract_id}/yearly-agreements", tags=["yearly agreements"], summary="A contract's yearly agreements, year by year")
async def list_contract_agreements(contract_id: str, caller: Caller, request: Request) -> list[dict[str, Any]]:
    contract = await reader(t.contracts, "contract")(contract_id, caller, request)  # 404 or 403 as for the contract itself
    rows = await query(request.app.state.runtime, lambda uow: repo.agreements(uow, contract_id=contract["contract_id"]))
    return [_agreement_view(r) for r in rows]


@router.get("/yearly-agreements", tags=["yearly agreements"], summary="Yearly agreements, optionally of one institution; a party sees its own")
async def list_yearly_agreements(caller: Caller, request: Request, institution_id: str | None = None) -> list[dict[str, Any]]:
    filters = own_filters(caller, {"institution_id": institution_id} if institution_id else {})
    if filters is None:
        return []
    rows = await query(request.app.state.runtime, lambda uow: repo.agreements(uow, **filters))
    return [_agreement_view(r) for r in rows]


@router.post("/yearly-agreements/{agreement_id}/amendments", tags=["yearly agreements"], status_code=201, response_model=Recorded)
async def amend_yearly_agreement(agreement_id: str, body: s.AmendmentIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Change an agreement's agreed volume (调整约定采购量), never below what is already accepted; repeating it is harmless."""
    caller.require(Role.OPERATOR)
    row = await _agreement(request, caller, agreement_id)
    await decidable(request, {"amended_on": body.amended_on}, region=row["pooling_region_code"])
    created = await execute(request.app.state.runtime,
                            lambda uow: agreements.amend(uow, agreement_id, body.agreed_quantity, body.amended_on, body.reason))
    _created(response, created)
    return Recorded(id=agreement_id, created=created)


@router.post("/reallocations", tags=["yearly agreements"], status_code=201, response_model=Recorded)
async def reallocate_volume(body: s.ReallocationIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Move agreed volume between institutions' agreements of one product and year, all at once; the total stays the same."""
    caller.require(Role.OPERATOR)
    await decidable(request, {"amended_on": body.amended_on}, of=(t.yearly_agreements, body.lines[0].agreement_id))
    cmd = ag.Reallocate(body.reallocation_id, body.amended_on, body.reason,
                        tuple(e.ReallocatedVolume(**line.model_dump()) for line in body.lines))
    return await record(request.app.state.runtime, response, body.reallocation_id, lambda uow: agreements.reallocate(uow, cmd))


@router.post("/yearly-agreements/{agreement_id}/rollover", tags=["yearly agreements"], status_code=201, response_model=Recorded)
async def roll_over_yearly_agreement(
    agreement_id: str, body: s.RollOverIn, caller: Caller, request: Request, response: Response
) -> Recorded:
    """Sign the next year's agreement (续签) within the contract's cycle; records what was still owed. Returns the new agreement's id."""
    caller.require(Role.OPERATOR)
    row = await _agreement(request, caller, agreement_id)
    await decidable(request, {"rolled_over_on": body.rolled_over_on}, region=row["pooling_region_code"])
    cmd = ag.RollOver(agreement_id, body.rolled_over_on, body.agreed_quantity)
    next_id, created = await execute(request.app.state.runtime, lambda uow: agreements.roll_over(uow, cmd))
    _created(response, created)
    return Recorded(id=next_id, created=created)
