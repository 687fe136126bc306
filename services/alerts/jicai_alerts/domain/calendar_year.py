"""A working-day calendar year (工作日安排) loaded by an operator on the running system.

The State Council publishes next year's holiday schedule (国务院办公厅关于N年部分节假日
安排的通知) in November; ``chinesecalendar`` covers it only with a later release.
Loading the year is an operator fact (``CalendarYearLoaded``) kept in the event
store, so it survives restarts and replays. A year is loaded once: the same
schedule again changes nothing, another one for a year already loaded or
already covered (by the library or a packaged file) is refused, because
decisions may have been taken with it.
"""
from __future__ import annotations

from datetime import date

from jicai_events.domain_events import DomainEvent
from jicai_events.rules import Conflict
from jicai_policy import WorkingDayCalendar, YearCalendar


class CalendarYearLoaded(DomainEvent):
    """An operator loaded the working-day calendar of ``year`` (rest days and make-up working days)."""

    name = "CalendarYearLoaded"
    year: int
    source: str
    holidays: tuple[date, ...]
    makeup_working_days: tuple[date, ...]
    loaded_by: str

    @classmethod
    def of(cls, year: YearCalendar, loaded_by: str) -> CalendarYearLoaded:
        return cls(
            year=year.year, source=year.source, holidays=tuple(sorted(year.holidays)),
            makeup_working_days=tuple(sorted(year.makeup_working_days)), loaded_by=loaded_by,
        )

    def year_calendar(self) -> YearCalendar:
        return YearCalendar(self.year, self.source, frozenset(self.holidays), frozenset(self.makeup_working_days))


def calendar_stream(year: int) -> str:
    return f"calendar-{year}"


def load(recorded: CalendarYearLoaded | None, calendar: WorkingDayCalendar, requested: CalendarYearLoaded) -> list[CalendarYearLoaded]:
    """Decide: record ``requested`` unless the same schedule is loaded already; refuse another one for a covered year."""
    if recorded is not None:
        if (recorded.holidays, recorded.makeup_working_days) == (requested.holidays, requested.makeup_working_days):
            return []
        raise Conflict(f"the calendar of {requested.year} was loaded already ({recorded.source}) with other days")
    if calendar.covers(requested.year):
        raise Conflict(f"the calendar of {requested.year} is covered already by {calendar.source_of(requested.year)}")
    return [requested]
