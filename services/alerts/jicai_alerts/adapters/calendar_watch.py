"""How long the working-day calendar lasts: a gauge for Prometheus and a readiness warning.

The State Council publishes next year's schedule in November; the library covers it only
with a later release. Without the year, payment deadlines and withhold dates that reach
into it wait (visibly, never guessed), so operations are told weeks before: from
``calendar_warning_days`` before the last covered day ``/readyz`` is ``degraded`` and the
``CalendarYearMissing`` rule (deploy/prometheus/rules.yml) fires, naming the year to load.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from prometheus_client import Gauge

from jicai_events.types import BUSINESS_TZ
from jicai_policy import PolicyBook

COVERED_UNTIL = Gauge(
    "jicai_calendar_covered_until_timestamp_seconds",
    "End of the last day the working-day calendar covers (Asia/Shanghai) as a Unix timestamp; missing_year: the year to load next",
    ["missing_year"],
)


def observe(book: PolicyBook) -> date:
    """Show the last covered day of the calendar in use (every decision reads the current book)."""
    until = book.calendar.covered_until()
    end = datetime.combine(until + timedelta(days=1), time(0), BUSINESS_TZ)
    COVERED_UNTIL.clear()
    COVERED_UNTIL.labels(missing_year=str(until.year + 1)).set(end.timestamp())
    return until


def warning(covered_until: date, today: date, warning_days: int) -> str | None:
    """The readiness warning, from ``warning_days`` before the last covered day on."""
    if (covered_until - today).days >= warning_days:
        return None
    missing = covered_until.year + 1
    return (
        f"the working-day calendar ends on {covered_until.isoformat()}: load {missing} "
        f"(jicai-calendar import the State Council's notice for {missing}, then jicai-calendar load, or PUT /calendars/{missing})"
    )


def today() -> date:
    return datetime.now(BUSINESS_TZ).date()
