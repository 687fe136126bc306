"""A working-day calendar year (工作日安排) loaded by an operator on the running system.

The State Council publishes next year's holiday schedule (国务院办公厅关于N年部分节假日
安排的通知) in November; ``chinesecalendar`` covers it only with a later release.
Years are now loaded on the policy topic (contracts' ``PUT /calendars/{year}``,
``jicai_events.catalog.policy.CalendarYearLoaded``). This domain event is what
alerts' own former ``PUT /calendars/{year}`` stored: it stays readable so a
rebuild replays years loaded that way into ``calendar_years``.
"""
from __future__ import annotations

from datetime import date

from jicai_events.domain_events import DomainEvent
from jicai_policy import YearCalendar


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
