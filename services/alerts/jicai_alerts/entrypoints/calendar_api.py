"""HTTP API of the working-day calendar (工作日安排): an operator loads next year's holiday schedule on the
running system (no restart) and everyone reads which years are covered and from where."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, ValidationError, model_validator

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import current_book
from jicai_alerts.application import calendar as app
from jicai_alerts.domain.calendar_year import CalendarYearLoaded
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, query, record
from jicai_kit.problems import Problem
from jicai_policy import LIBRARY_YEARS, CalendarFile, PolicyFileError, YearCalendar, parse_calendar_text

router = APIRouter(tags=["calendar"])
Year = Annotated[int, Path(ge=1949, le=2200, description="the calendar year")]


class CalendarYearIn(BaseModel):
    """Either ``file`` (the content of a ``cn-<year>.toml`` calendar file, as ``jicai-calendar import`` writes it)
    or the schedule itself: ``source``, ``holidays`` (rest days, 放假) and ``makeup_working_days`` (调休上班)."""

    file: str | None = Field(None, description="the calendar file's TOML text")
    source: str | None = Field(None, description="the State Council notice it transcribes")
    holidays: list[date] | None = Field(None, description="rest days (放假), weekend days inside a holiday block included")
    makeup_working_days: list[date] = Field(default_factory=list, description="weekend days that are working days (调休上班)")

    @model_validator(mode="after")
    def _one_form(self) -> CalendarYearIn:
        if (self.file is None) == (self.holidays is None and self.source is None):
            raise ValueError("give either file or source and holidays, not both or neither")
        return self


class CalendarYearOut(BaseModel):
    year: int
    source: str = Field(description="where the year's working days come from")
    loaded_by: str | None = Field(None, description="the operator who loaded it on the running system; null when packaged")


class CalendarsOut(BaseModel):
    years: list[CalendarYearOut]
    covered_until: date = Field(description="the last day covered without a gap")
    waiting: dict[str, int] = Field(description="per missing year, how many invoices wait for its calendar")


def _refused(exc: PolicyFileError) -> Problem:
    errors = [{"field": field, "reason": reason} for field, reason in exc.problems]
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return Problem(422, "invalid-field", "Invalid calendar", detail, errors=errors)


def _year_calendar(year: int, body: CalendarYearIn) -> YearCalendar:
    try:
        if body.file is not None:
            parsed = parse_calendar_text(body.file, "file")
        else:
            data = {"year": year, "source": body.source, "holidays": body.holidays, "makeup_working_days": body.makeup_working_days}
            parsed = CalendarFile.model_validate(data).to_year_calendar()
    except PolicyFileError as exc:
        raise _refused(exc) from exc
    except ValidationError as exc:
        problems = [(".".join(str(p) for p in err["loc"]) or "body", err["msg"]) for err in exc.errors()]
        raise _refused(PolicyFileError("body", problems)) from exc
    if parsed.year != year:
        raise _refused(PolicyFileError("file", [("year", f"the file is for {parsed.year}, not {year}")]))
    return parsed


@router.put("/calendars/{year}", response_model=Recorded)
async def load_calendar_year(year: Year, body: CalendarYearIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Load the working-day calendar of ``year`` (the State Council's 部分节假日安排) on the running system.

    Every invoice waiting for it is decided at once, each as of its own dates, and the decisions are published.
    A year is loaded once: the same days again answer 200 ``created: false``; other days for a year loaded or
    covered already are refused (409), since decisions may have been taken with it.
    """
    caller.require(Role.OPERATOR)
    requested = CalendarYearLoaded.of(_year_calendar(year, body), caller.party_id)

    async def command(uow: UnitOfWork) -> bool:
        return await app.load_calendar_year(uow, requested, await current_book(uow))

    return await record(request.app.state.runtime, response, f"calendar-{year}", command)


@router.get("/policy/calendars", response_model=CalendarsOut)
async def calendars(caller: Caller, request: Request) -> CalendarsOut:
    """The years the working-day calendar covers and their source (library, calendar file, or loaded by an operator),
    the last day covered, and the invoices waiting for a missing year."""

    async def read(uow: UnitOfWork) -> CalendarsOut:
        book = await current_book(uow)
        loaded = {r["year"]: r["loaded_by"] for r in await repo.list_rows(uow, t.calendar_years)}
        covered_until = book.calendar.covered_until()
        years = [
            CalendarYearOut(year=y, source=book.calendar.source_of(y), loaded_by=loaded.get(y))
            for y in range(LIBRARY_YEARS.start, covered_until.year + 1)
        ]
        waiting = await repo.invoices_waiting_by_year(uow)
        return CalendarsOut(years=years, covered_until=covered_until, waiting={str(y): n for y, n in waiting.items()})

    return await query(request.app.state.runtime, read)
