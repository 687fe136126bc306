"""The policy book (profiles, region mapping, working-day calendar), loaded once per process.

``JICAI_POLICY_DIR`` and ``JICAI_CALENDAR_DIR`` are honoured by ``jicai_policy``;
an invalid file stops the service at start with the file, field and reason.
The platform's go-live per rule and region (R3 ``volume_completion_from``, R4
``non_winning_cap_from``) is region data in ``regions.toml``.

Calendar years an operator loaded on the running system (``PUT /calendars/{year}``,
kept as ``CalendarYearLoaded`` events) are layered over the packaged calendar:
``current_book`` reads them inside the caller's transaction, so every replica and
every restart decides with the same years.
"""
from __future__ import annotations

from datetime import date
from functools import cache

from sqlalchemy import select

from jicai_alerts.adapters import calendar_watch
from jicai_alerts.adapters import tables as t
from jicai_alerts.domain import manufacturer_report as mr
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook, YearCalendar, load_policy_book


@cache
def policy_book() -> PolicyBook:
    book = load_policy_book()
    calendar_watch.observe(book)
    return book


_layered: dict[tuple[int, ...], tuple[PolicyBook, PolicyBook]] = {}
"""Loaded years → (the base book, the base book with them), rebuilt when the base is reloaded."""


async def current_book(uow: UnitOfWork) -> PolicyBook:
    """The policy book with every calendar year loaded at run time (a loaded year never changes: keyed by years)."""
    cy = t.calendar_years
    years = tuple((await uow.session.scalars(select(cy.c.year).order_by(cy.c.year))).all())
    base = policy_book()
    cached = _layered.get(years)
    if cached is not None and cached[0] is base:
        return cached[1]
    rows = (await uow.session.execute(select(cy).order_by(cy.c.year))).mappings().all()
    years = tuple(r["year"] for r in rows)  # a year committed in between is in both
    loaded = [
        YearCalendar(
            r["year"], r["source"], frozenset(map(date.fromisoformat, r["holidays"])),
            frozenset(map(date.fromisoformat, r["makeup_working_days"])),
        )
        for r in rows
    ]
    book = base.with_calendar(base.calendar.with_years(*loaded)) if loaded else base
    _layered[years] = (base, book)
    calendar_watch.observe(book)
    return book


def manufacturer_report_checks(book: PolicyBook) -> tuple[mr.ProfileFor, mr.LiveFrom]:
    """The profile in force and the region's go-live of the monthly-report check (``manufacturer_report_from``)."""
    return (lambda region, on: book.profile_for(region, on=on)), (lambda region, on: book.entry_for(region, on=on).manufacturer_report_from)
