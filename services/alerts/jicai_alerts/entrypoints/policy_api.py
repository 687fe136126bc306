"""HTTP API of the working-day calendar (工作日安排) in alerts: which years are covered, from where, and the invoices
waiting per missing year. Years are loaded on the policy topic (contracts' ``PUT /calendars/{year}``, no restart);
``GET /policy/regions/{code}`` is every service's (``jicai_kit.policy_api``)."""
from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import current_book
from jicai_events.catalog import CalendarYearLoaded
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller
from jicai_kit.commands import query
from jicai_policy import LIBRARY_YEARS

router = APIRouter(tags=["policy"])


class CalendarYearOut(BaseModel):
    year: int
    source: str = Field(description="where the year's working days come from")
    loaded_by: str | None = Field(None, description="the operator who loaded it on the running system; null when packaged")


class CalendarsOut(BaseModel):
    years: list[CalendarYearOut]
    covered_until: date = Field(description="the last day covered without a gap")
    waiting: dict[str, int] = Field(description="per missing year, how many invoices wait for its calendar")


@router.get("/policy/calendars", response_model=CalendarsOut)
async def calendars(caller: Caller, request: Request) -> CalendarsOut:
    """The years the working-day calendar covers and their source (library, calendar file, or loaded by an operator),
    the last day covered, and the invoices waiting for a missing year."""

    async def read(uow: UnitOfWork) -> CalendarsOut:
        book = await current_book(uow)
        loaded = {r["year"]: r["loaded_by"] for r in await queries.list_rows(uow, t.calendar_years)}  # the former PUT's
        pc = uow.tables.policy_changes
        for data in (await uow.session.scalars(select(pc.c.data).where(pc.c.event_type == CalendarYearLoaded.type_name()))).all():
            loaded.setdefault(data["year"], data["loaded_by"])
        covered_until = book.calendar.covered_until()
        years = [
            CalendarYearOut(year=y, source=book.calendar.source_of(y), loaded_by=loaded.get(y))
            for y in range(LIBRARY_YEARS.start, covered_until.year + 1)
        ]
        waiting = await queries.invoices_waiting_by_year(uow)
        return CalendarsOut(years=years, covered_until=covered_until, waiting={str(y): n for y, n in waiting.items()})

    return await query(request.app.state.runtime, read)
