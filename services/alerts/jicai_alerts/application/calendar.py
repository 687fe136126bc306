"""Use case: an operator loads a working-day calendar year on the running system; what waited for it is decided."""
from __future__ import annotations

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.policy import current_book
from jicai_alerts.application import services
from jicai_alerts.domain import calendar_year as cy
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook


async def book_after_clock(uow: UnitOfWork, *, shared: bool) -> PolicyBook:
    """``current_book`` read once the clock lock is held: a calendar year loaded concurrently (``PUT /calendars``
    holds the lock exclusively) is either seen here or has seen what this transaction records."""
    await repo.lock_clock(uow, shared=shared)
    return await current_book(uow)


async def load_calendar_year(uow: UnitOfWork, requested: cy.CalendarYearLoaded, book: PolicyBook) -> bool:
    """Record the year (once) and decide every invoice waiting for the calendar; False when it was loaded already.

    ``book`` is the policy book before the year (``current_book``). The clock lock keeps day closes and new
    invoices out until commit, so each waiting invoice is decided as of its own dates, as if the year had been
    known from the start.
    """
    await repo.lock_clock(uow, shared=False)
    stream_id = cy.calendar_stream(requested.year)
    history, version = await repo.streams.load(uow, stream_id)
    recorded = next((e for e in history if isinstance(e, cy.CalendarYearLoaded)), None)
    new = cy.load(recorded, book.calendar, requested)
    if not new:
        return False
    await repo.streams.append(uow, stream_id, "calendar", version, new)
    await services.calendar_year_loaded(uow, book.with_calendar(book.calendar.with_years(requested.year_calendar())))
    return True
