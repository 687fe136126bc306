"""Policy changes on the running system (operators; the procurement office's side): a pooling region's profile
assignment, a rule's go-live in a region, next year's working-day calendar. Each is decided against the policy book
every service folds (``jicai_policy.changes``), then published on the policy topic and stored here in the same
transaction; every service folds it without a restart. Idempotent by business key: the same content again answers
200 ``created: false``; other content for a key decisions were taken with answers 409.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field, ValidationError, model_validator
from sqlalchemy import func, select, text

from jicai_contracts.adapters.policy import FOLDED
from jicai_events import watermarks
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import CalendarYearLoaded, RegionProfileAssigned, RuleGoLiveSet
from jicai_events.catalog.policy import GoLiveRule
from jicai_events.rules import Conflict, RuleViolated
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, record
from jicai_kit.policy import store_change
from jicai_kit.problems import Problem
from jicai_kit.validity import BusinessDate, Input
from jicai_policy import CalendarFile, PolicyBook, PolicyFileError, YearCalendar, parse_calendar_text
from jicai_policy.changes import (
    ChangeConflicts,
    ChangeRefused,
    GoLiveSet,
    RegionAssigned,
    decide_assignment,
    decide_calendar_year,
    decide_go_live,
)

router = APIRouter(tags=["policy"])
Decide = Callable[[PolicyBook, date | None], bool]
"""True: record the change; False: recorded already. Raises ``ChangeRefused`` (422) or ``ChangeConflicts`` (409)."""
RegionCode = Annotated[str, Path(pattern=r"^[1-9]\d{5}$", description="the pooling region's 6-digit code (统筹区)")]
Year = Annotated[int, Path(ge=1949, le=2200, description="the calendar year")]
Rule = Literal["volume_completion", "non_winning_cap", "manufacturer_report"]
Text = Annotated[str, Field(min_length=1, max_length=500)]
Days = Annotated[list[BusinessDate], Field(max_length=366)]


class AssignmentIn(Input):
    """From the path's ``effective_from`` on, the region follows ``profile_id`` at ``version``."""

    profile_id: Annotated[str, Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)]
    version: Annotated[int, Field(ge=1, le=1000)]
    region_name: Annotated[str, Field(min_length=1, max_length=200)]
    source: Text = Field(description="the notice the assignment follows")


class GoLiveIn(Input):
    """The rule is decided in the region from ``from`` on; ``from`` null withdraws a go-live not reached yet."""

    go_live: BusinessDate | None = Field(alias="from", description="YYYY-MM-DD, a day not closed yet; null: withdraw")
    source: Text = Field(description="why now (e.g. the platform holds every acceptance since the agreement year began)")


class CalendarYearIn(Input):
    """Either ``file`` (the content of a ``cn-<year>.toml`` calendar file, as ``jicai-calendar import`` writes it)
    or the schedule itself: ``source``, ``holidays`` (rest days, 放假) and ``makeup_working_days`` (调休上班)."""

    file: Annotated[str, Field(max_length=100_000)] | None = Field(None, description="the calendar file's TOML text")
    source: Text | None = Field(None, description="the State Council notice it transcribes")
    holidays: Days | None = Field(None, description="rest days (放假), weekend days inside a holiday block included")
    makeup_working_days: Days = Field(default_factory=list, description="weekend days that are working days (调休上班)")

    @model_validator(mode="after")
    def _one_form(self) -> CalendarYearIn:
        if (self.file is None) == (self.holidays is None and self.source is None):
            raise ValueError("give either file or source and holidays, not both or neither")
        return self


async def _closed_through(uow: UnitOfWork) -> date | None:
    """The last business day closed as this service has it (its day-close markers published)."""
    t = uow.tables.day_closes
    consumer = watermarks.marker_consumer_name("contracts")
    closed: date | None = await uow.session.scalar(
        select(func.max(t.c.business_date)).where(t.c.consumer == consumer, t.c.decided_at.is_not(None))
    )
    return closed


async def _change(request: Request, response: Response, record_id: str, event: IntegrationEvent, decide: Decide) -> Recorded:
    async def command(uow: UnitOfWork) -> bool:
        # one policy change at a time: each is decided against the book with every change before it
        await uow.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('jicai-policy-changes'))"))
        book = await FOLDED.refresh(uow.session, uow.tables, force=True)
        try:
            if not decide(book, await _closed_through(uow)):
                return False
        except ChangeRefused as exc:
            raise RuleViolated(exc.field, exc.reason) from exc
        except ChangeConflicts as exc:
            raise Conflict(str(exc)) from exc
        envelope = await uow.publish(event)
        await store_change(uow.session, uow.tables, envelope.id, event)
        return True

    recorded = await record(request.app.state.runtime, response, record_id, command)
    # After the commit, not in the transaction: a refresh in between (a consumer's, before the event it handles) read
    # the changes without this one and would have kept that book for REFRESH_S, refusing the next write the change allows.
    FOLDED.invalidate()
    return recorded


@router.put("/policy/regions/{region_code}/assignments/{effective_from}", response_model=Recorded, status_code=201)
async def assign_region(
    region_code: RegionCode, effective_from: Annotated[date, Path(description="YYYY-MM-DD")], body: AssignmentIn,
    caller: Caller, request: Request, response: Response,
) -> Recorded:
    """Assign the pooling region to a profile version from ``effective_from`` on (a region new to the platform, or a
    new notice). The profile must be one every service ships; an existing region's assignment takes effect from a day
    not yet closed. Once every service has folded it (``?after=`` the answer's consistency token), writes in the region
    are accepted everywhere."""
    caller.require(Role.OPERATOR)
    event = RegionProfileAssigned(
        region_code=region_code, region_name=body.region_name, profile_id=body.profile_id, version=body.version,
        effective_from=effective_from, source=body.source, assigned_by=caller.party_id,
    )
    change = RegionAssigned("", region_code, body.region_name, body.profile_id, body.version, effective_from, body.source)
    return await _change(request, response, f"{region_code}/{effective_from}", event, lambda book, closed: decide_assignment(book, change, closed))


@router.put("/policy/regions/{region_code}/go-lives/{rule}", response_model=Recorded, status_code=201)
async def set_go_live(region_code: RegionCode, rule: Rule, body: GoLiveIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Set when the platform starts deciding ``rule`` in the region (R3 ``volume_completion``: period ends from that day
    on; R4 ``non_winning_cap`` and ``manufacturer_report``: months from that day's month on), or withdraw it while it is
    not reached yet. The profile in force then must have the rule; a go-live already reached is final (409)."""
    caller.require(Role.OPERATOR)
    go_live_rule = cast(GoLiveRule, f"{rule}_from")
    event = RuleGoLiveSet(region_code=region_code, rule=go_live_rule, go_live=body.go_live, source=body.source, set_by=caller.party_id)
    change = GoLiveSet("", region_code, go_live_rule, body.go_live, body.source)
    return await _change(request, response, f"{region_code}/{rule}", event, lambda book, closed: decide_go_live(book, change, closed))


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


@router.put("/calendars/{year}", response_model=Recorded, status_code=201)
async def load_calendar_year(year: Year, body: CalendarYearIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Load the working-day calendar of ``year`` (the State Council's 部分节假日安排) on the running system.

    Every service folds it without a restart; alerts then decides every invoice that waited for it, each as of its own
    dates, and publishes the decisions. A year is loaded once: the same days again answer 200 ``created: false``; other
    days for a year loaded or covered already are refused (409), since decisions may have been taken with it.
    """
    caller.require(Role.OPERATOR)
    schedule = _year_calendar(year, body)
    event = CalendarYearLoaded(
        year=year, source=schedule.source, holidays=tuple(sorted(schedule.holidays)),
        makeup_working_days=tuple(sorted(schedule.makeup_working_days)), loaded_by=caller.party_id,
    )
    return await _change(request, response, f"calendar-{year}", event, lambda book, _closed: decide_calendar_year(book, schedule))
