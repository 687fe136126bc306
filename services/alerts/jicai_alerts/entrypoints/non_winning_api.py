"""HTTP API of R4 non-winning purchases (非中选): per evaluated month and generic group."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.queries import Row
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller
from jicai_kit.commands import query

router = APIRouter(tags=["non-winning purchases"])


class GroupMonthOut(BaseModel):
    generic_group_id: str
    winning_base_units: Decimal = Field(description="accepted winning quantity × base units per trading unit")
    non_winning_base_units: Decimal = Field(description="non-winning purchases, in the group's base unit")
    ratio: Decimal | None = Field(description="non-winning / winning, rounded down; null when nothing winning was accepted")
    cap_ratio: Decimal | None = Field(description="the profile's max_ratio_to_winning; null: the profile has no cap (R4 does not apply)")
    profile_id: str | None
    profile_version: int | None
    exceeded: bool
    decision_id: str | None = Field(description="the NonWinningPurchaseCapExceeded decision, if any")
    caused_by: list[str] | None


class MonthOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    groups: list[GroupMonthOut]


class NonWinningOut(BaseModel):
    institution_id: str
    next_month_end: date | None = Field(description="the last day of the next month to evaluate, if any")
    months: list[MonthOut]


@router.get("/institutions/{institution_id}/non-winning", response_model=NonWinningOut)
async def non_winning(institution_id: str, caller: Caller, request: Request) -> NonWinningOut:
    """Per evaluated calendar month (按月监测) and generic group: winning against non-winning base units,
    their ratio and the decision (采购数量不得超过中选药品的采购量, Guizhou 000 §五(一))."""
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id)

    async def read(uow: UnitOfWork) -> tuple[Row | None, list[Row]]:
        nm = t.non_winning_months
        return (
            await queries.find(uow, t.non_winning_institutions, institution_id),
            await queries.list_rows(uow, nm, nm.c.institution_id == institution_id, order_by=[nm.c.month, nm.c.generic_group_id]),
        )

    summary, rows = await query(request.app.state.runtime, read)
    by_month: dict[date, list[GroupMonthOut]] = defaultdict(list)
    for r in rows:
        by_month[r["month"]].append(
            GroupMonthOut(
                generic_group_id=r["generic_group_id"], winning_base_units=r["winning_base_units"],
                non_winning_base_units=r["non_winning_base_units"], ratio=r["ratio"], cap_ratio=r["cap_ratio"],
                profile_id=r["profile_id"], profile_version=r["profile_version"], exceeded=r["decision_id"] is not None,
                decision_id=r["decision_id"], caused_by=r["caused_by"],
            )
        )
    return NonWinningOut(
        institution_id=institution_id,
        next_month_end=summary["next_month_end"] if summary else None,
        months=[MonthOut(month=m.strftime("%Y-%m"), groups=groups) for m, groups in sorted(by_month.items())],
    )
