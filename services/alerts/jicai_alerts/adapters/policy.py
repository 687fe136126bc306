"""The policy book: packaged profiles, region mapping and working-day calendar, with the policy topic's changes.

``JICAI_POLICY_DIR`` and ``JICAI_CALENDAR_DIR`` are honoured by ``jicai_policy``; an invalid file stops the
service at start with the file, field and reason. Region assignments, rule go-lives (R3
``volume_completion_from``, R4 ``non_winning_cap_from``, reports) and calendar years an operator changes on the
running system arrive on the policy topic and are folded by ``FOLDED`` (``jicai_kit.policy``).

Calendar years loaded through alerts' former ``PUT /calendars/{year}`` (before the policy topic) stay in
``calendar_years`` (rebuilt from their stored ``CalendarYearLoaded`` domain events) and are layered over the folded
book: their years come with every check of the policy changes (``FOLDED``'s ``watch``, in the same query), and
``current_book`` reads their rows when those years moved, so every replica and every restart decides with the same
years. (Only a rebuild writes the table now, replaying the same stored years.)
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import literal_column, select

from jicai_alerts.adapters import calendar_watch
from jicai_alerts.adapters import tables as t
from jicai_alerts.domain import manufacturer_report as mr
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.policy import FoldedPolicy
from jicai_policy import PolicyBook, YearCalendar, load_policy_book


def _packaged() -> PolicyBook:
    book = load_policy_book()
    calendar_watch.observe(book)
    return book


FOLDED = FoldedPolicy(_packaged, watch=literal_column(f"ARRAY(SELECT year FROM {t.calendar_years.name} ORDER BY year)"))
"""Its check reads the legacy calendar years too: ``current_book`` reads their rows only when those moved."""
_legacy_years: tuple[YearCalendar, ...] = ()
_layered: dict[tuple[int, tuple[int, ...]], tuple[PolicyBook, PolicyBook]] = {}
"""(folded book's id, legacy years) → (the folded book, it with the legacy years)."""


def policy_book() -> PolicyBook:
    """The book as last refreshed (every request and every handled event refreshes it first)."""
    return _layer(FOLDED.book(), _legacy_years)


def _layer(folded: PolicyBook, legacy: tuple[YearCalendar, ...]) -> PolicyBook:
    key = (id(folded), tuple(y.year for y in legacy))
    cached = _layered.get(key)
    if cached is not None and cached[0] is folded:
        return cached[1]
    missing = [y for y in legacy if not folded.calendar.covers(y.year)]
    book = folded.with_calendar(folded.calendar.with_years(*missing)) if missing else folded
    _layered.clear()
    _layered[key] = (folded, book)
    calendar_watch.observe(book)
    return book


async def current_book(uow: UnitOfWork, *, force: bool = False, own: bool = False) -> PolicyBook:
    """The book with every policy change stored so far and the years loaded through the former endpoint (``own``: with
    the change this transaction stored, seen by no one else before its commit: ``FoldedPolicy.refresh``)."""
    global _legacy_years
    folded = await FOLDED.refresh(uow.session, uow.tables, force=force, own=own)
    if FOLDED.watched is None or tuple(FOLDED.watched) != tuple(y.year for y in _legacy_years):
        cy = t.calendar_years
        rows = (await uow.session.execute(select(cy).order_by(cy.c.year))).mappings().all()
        _legacy_years = tuple(
            YearCalendar(
                r["year"], r["source"], frozenset(map(date.fromisoformat, r["holidays"])),
                frozenset(map(date.fromisoformat, r["makeup_working_days"])),
            )
            for r in rows
        )
    return _layer(folded, _legacy_years)


def manufacturer_report_checks(book: PolicyBook) -> tuple[mr.ProfileFor, mr.LiveFrom]:
    """The profile in force and the region's go-live of the monthly-report check (``manufacturer_report_from``)."""
    return (lambda region, on: book.profile_for(region, on=on)), (lambda region, on: book.entry_for(region, on=on).manufacturer_report_from)
