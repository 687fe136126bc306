"""HTTP API of the manufacturers' monthly report (Hubei 003 §五(二)): the months reported late or not at all."""
from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_kit.auth import Caller
from jicai_kit.commands import query

router = APIRouter(tags=["manufacturer reports"])


class MissedReportOut(BaseModel):
    decision_id: str
    month: str = Field(description="the month the report is on, YYYY-MM")
    due_on: date
    status: Literal["missing", "closed"] = Field(description="missing | closed (a late report arrived)")
    closed_on: date | None = Field(description="submitted_on of the late report")
    profile_id: str
    profile_version: int
    caused_by: list[str]


@router.get("/manufacturers/{manufacturer_id}/missed-reports", response_model=list[MissedReportOut])
async def missed_reports(manufacturer_id: str, caller: Caller, request: Request) -> list[MissedReportOut]:
    """Months whose report (生产、供应、库存、回款情况) was not submitted by the due day, open or closed by a late one."""
    caller.may_read(what=f"the records of manufacturer {manufacturer_id}", manufacturer_id=manufacturer_id)
    m = t.manufacturer_report_misses
    rows = await query(
        request.app.state.runtime, lambda uow: queries.list_rows(uow, m, m.c.manufacturer_id == manufacturer_id, order_by=[m.c.month])
    )
    return [MissedReportOut.model_validate({**r, "status": "missing" if r["closed_on"] is None else "closed"}) for r in rows]
