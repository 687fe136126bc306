"""Use case: a working-day calendar year arrived on the policy topic; what waited for it is decided."""
from __future__ import annotations

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.policy import current_book
from jicai_alerts.application import services
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook


async def book_after_clock(uow: UnitOfWork, *, shared: bool) -> PolicyBook:
    """``current_book`` read once the clock lock is held: a calendar year folded concurrently (``decide_waiting``
    holds the lock exclusively) is either seen here or has seen what this transaction records."""
    await repo.lock_clock(uow, shared=shared)
    return await current_book(uow)


async def decide_waiting(uow: UnitOfWork) -> None:
    """Decide every invoice waiting for the calendar with the book that now has the year (stored in this transaction).

    The clock lock keeps day closes and new invoices out until commit, so each waiting invoice is decided as of its
    own dates, as if the year had been known from the start.
    """
    await repo.lock_clock(uow, shared=False)
    await services.calendar_year_loaded(uow, await current_book(uow, own=True))
