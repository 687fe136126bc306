"""Manufacturers' monthly reports of production, supply, stock and payments received (Hubei 003 §五(二))."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters import tables as t
from jicai_contracts.application import reports
from jicai_contracts.domain import events as e
from jicai_contracts.domain.report import report_id
from jicai_contracts.entrypoints import schemas as s
from jicai_contracts.entrypoints.common import decidable, jsonable, own_filters
from jicai_kit.auth import SEES_ALL, Caller, Role
from jicai_kit.commands import Recorded, query, record
from jicai_kit.validity import first_of, today

router = APIRouter()


@router.post("/manufacturer-reports", tags=["manufacturer reports"], status_code=201, response_model=Recorded)
async def submit_manufacturer_report(body: s.ManufacturerReportIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """A manufacturer reports last month's production, supply, stock and payments received (Hubei 003 §五(二)); once per month."""
    caller.require(Role.MANUFACTURER)
    event = e.ManufacturerReportSubmitted(report_id=report_id(caller.party_id, body.month), manufacturer_id=caller.party_id,
                                          **body.model_dump())
    await decidable(request, {"submitted_on": body.submitted_on, "month": first_of(body.month)})
    now = today(request.app.state.settings)
    return await record(request.app.state.runtime, response, event.report_id, lambda uow: reports.submit(uow, event, now))


@router.get("/manufacturer-reports", tags=["manufacturer reports"], summary="Monthly reports, optionally of one manufacturer; a manufacturer sees its own")
async def list_manufacturer_reports(caller: Caller, request: Request, manufacturer_id: str | None = None) -> list[dict[str, Any]]:
    caller.require(*SEES_ALL, Role.MANUFACTURER)
    filters = own_filters(caller, {"manufacturer_id": manufacturer_id} if manufacturer_id else {})
    if filters is None:
        return []
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.manufacturer_reports, **filters))
    return [jsonable(r) for r in rows]
