"""HTTP API of the policy in force: the working-day calendar (工作日安排) — an operator loads next year's
holiday schedule on the running system (no restart), everyone reads which years are covered and from
where — and which profile, version and rule go-lives a pooling region follows on a date."""
from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field, ValidationError, model_validator

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import current_book
from jicai_alerts.application import calendar as app
from jicai_alerts.domain.calendar_year import CalendarYearLoaded
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, query, record
from jicai_kit.problems import Problem, not_found
from jicai_policy import LIBRARY_YEARS, CalendarFile, NoProfileForRegion, PolicyFileError, YearCalendar, parse_calendar_text

router = APIRouter(tags=["policy"])
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


class RegionPolicyOut(BaseModel):
    """The policy a pooling region (统筹区) follows on a date."""

    region_code: str
    region_name: str
    on: date
    profile_id: str
    profile_version: int
    profile_title: str
    effective_from: date = Field(description="the assignment in force since")
    volume_completion_from: date | None = Field(description="R3 go-live on the platform; null: not decided in the region")
    non_winning_cap_from: date | None = Field(description="R4 go-live; null: not decided in the region")
    manufacturer_report_from: date | None = Field(description="manufacturers' monthly reports checked from; null: not checked")


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
        return await app.load_calendar_year(uow, requested, await app.book_after_clock(uow, shared=False))

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


@router.get("/policy/regions/{region_code}", response_model=RegionPolicyOut)
async def region_policy(
    region_code: Annotated[str, Path(pattern=r"^\d{6}$", description="the pooling region's 6-digit code")],
    caller: Caller,
    request: Request,
    on: Annotated[date, Query(description="the day (YYYY-MM-DD)")],
) -> RegionPolicyOut:
    """The profile (id, version), its assignment and the rule go-lives in force for the region on ``on``."""
    book = await query(request.app.state.runtime, current_book)
    try:
        entry = book.entry_for(region_code, on)
    except NoProfileForRegion as exc:
        raise not_found("policy for region", f"{region_code} on {on.isoformat()}") from exc
    return RegionPolicyOut(
        region_code=entry.region_code, region_name=entry.region_name, on=on, profile_id=entry.profile_id,
        profile_version=entry.version, profile_title=book.get(entry.profile_id, entry.version).title,
        effective_from=entry.effective_from, volume_completion_from=entry.volume_completion_from,
        non_winning_cap_from=entry.non_winning_cap_from, manufacturer_report_from=entry.manufacturer_report_from,
    )
