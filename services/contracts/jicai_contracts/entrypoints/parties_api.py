"""Parties: medical institutions (医疗机构), winning manufacturers (中选生产企业) and distributors (配送企业)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters import tables as t
from jicai_contracts.application import services
from jicai_contracts.domain import events as e
from jicai_contracts.entrypoints import schemas as s
from jicai_contracts.entrypoints.common import add_readers, jsonable
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, query, record

router = APIRouter()


@router.post("/institutions", tags=["parties"], status_code=201, response_model=Recorded)
async def register_institution(body: s.InstitutionIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Register a medical institution (医疗机构) in its pooling region (统筹区)."""
    caller.require(Role.OPERATOR)
    event = e.InstitutionRegistered(
        institution_id=body.institution_id, institution_name=body.name,
        pooling_region_code=body.pooling_region_code, county_code=body.county_code,
    )
    return await record(request.app.state.runtime, response, body.institution_id, lambda uow: services.register_institution(uow, event))


@router.post("/manufacturers", tags=["parties"], status_code=201, response_model=Recorded)
async def register_manufacturer(body: s.PartyIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Register a winning manufacturer (中选生产企业)."""
    caller.require(Role.OPERATOR)
    event = e.ManufacturerRegistered(manufacturer_id=body.party_id, manufacturer_name=body.name)
    return await record(request.app.state.runtime, response, body.party_id, lambda uow: services.register_manufacturer(uow, event))


@router.post("/distributors", tags=["parties"], status_code=201, response_model=Recorded)
async def register_distributor(body: s.PartyIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Register a distributor (配送企业)."""
    caller.require(Role.OPERATOR)
    event = e.DistributorRegistered(distributor_id=body.party_id, distributor_name=body.name)
    return await record(request.app.state.runtime, response, body.party_id, lambda uow: services.register_distributor(uow, event))


add_readers(
    router, "parties",
    ("/institutions/{key}", t.institutions, "institution"),
    ("/manufacturers/{key}", t.manufacturers, "manufacturer"),
    ("/distributors/{key}", t.distributors, "distributor"),
)


@router.get("/institutions", tags=["parties"], summary="Every institution, optionally of one pooling region (operators and the fund)")
async def list_institutions(caller: Caller, request: Request, pooling_region_code: str | None = None) -> list[dict[str, Any]]:
    """The institutions registered, in id order: what a province-wide view (the operations console) iterates over."""
    caller.require(Role.OPERATOR, Role.FUND)
    filters = {"pooling_region_code": pooling_region_code} if pooling_region_code else {}
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.institutions, **filters))
    return [jsonable(r) for r in rows]
