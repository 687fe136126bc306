"""Every service's policy book: the packaged profiles plus the policy changes it has read from the policy topic.

Each service consumes the policy topic (``RegionProfileAssigned``, ``RuleGoLiveSet``, ``CalendarYearLoaded``)
and stores each change in its ``policy_changes`` table, in the topic's order, so a restart loses none and a
replay adds nothing twice (unique event id). ``FoldedPolicy`` folds the stored changes over the packaged book
(``jicai_policy.changes.fold``) and keeps the result per process. Several instances and API workers converge
without a restart: a request refreshes the book when the stored changes moved (one ``max``/``count`` query at
most every ``REFRESH_S`` per process, at once when it carries ``?after=``, which first waited for the change to
be stored); a consumer before each event it handles, at once before a day close.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fastapi import Request
from sqlalchemy import ColumnElement, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.base import IntegrationEvent, event_registry
from jicai_events.catalog import CalendarYearLoaded, RegionProfileAssigned, RuleGoLiveSet
from jicai_events.envelope import Envelope
from jicai_events.subscriptions import Subscription
from jicai_events.tables import EventTables
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.problems import database_unreachable
from jicai_policy import PolicyBook, YearCalendar
from jicai_policy.changes import CalendarYearAdded, Folded, GoLiveSet, PolicyChange, RegionAssigned, fold

REFRESH_S = 0.5
"""How stale a process's book may be (without ``?after=``) after another instance stored a change."""

POLICY_EVENTS: tuple[type[IntegrationEvent], ...] = (RegionProfileAssigned, RuleGoLiveSet, CalendarYearLoaded)


def change_of(event_id: str, event: IntegrationEvent) -> PolicyChange:
    """The pure change an event on the policy topic stands for."""
    if isinstance(event, RegionProfileAssigned):
        return RegionAssigned(event_id, event.region_code, event.region_name, event.profile_id, event.version, event.effective_from, event.source)
    if isinstance(event, RuleGoLiveSet):
        return GoLiveSet(event_id, event.region_code, event.rule, event.go_live, event.source)
    if isinstance(event, CalendarYearLoaded):
        return CalendarYearAdded(event_id, year_calendar(event))
    raise TypeError(f"not a policy event: {type(event).__name__}")


def year_calendar(event: CalendarYearLoaded) -> YearCalendar:
    return YearCalendar(event.year, event.source, frozenset(event.holidays), frozenset(event.makeup_working_days))


async def store_change(session: AsyncSession, tables: EventTables, event_id: str, event: IntegrationEvent) -> bool:
    """Keep a policy change (once per event id); False when it was stored already (the writer's own, or a replay)."""
    t = tables.policy_changes
    row = {"event_id": event_id, "event_type": event.type_name(), "data": event.model_dump(mode="json")}
    stored = await session.execute(pg_insert(t).values(row).on_conflict_do_nothing(index_elements=[t.c.event_id]).returning(t.c.position))
    return stored.first() is not None


class FoldedPolicy:
    """The packaged book (``load_base``, read once) with the stored policy changes folded over it."""

    def __init__(self, load_base: Callable[[], PolicyBook], watch: ColumnElement[Any] | None = None) -> None:
        """``watch``: a value of the service's own the check reads in the same query (``watched``), e.g. alerts' legacy
        calendar years, so that a service layering its own rows over the book need not read them per event."""
        self._load_base = load_base
        self._watch = watch
        self._base: PolicyBook | None = None
        self._folded: Folded | None = None
        self._seen: tuple[Any, ...] | None = None
        self._checked = float("-inf")
        self.watched: Any = None
        """The value of ``watch`` at the last check (None before any)."""

    def base(self) -> PolicyBook:
        if self._base is None:
            self._base = self._load_base()
        return self._base

    def book(self) -> PolicyBook:
        """The book as last refreshed (the packaged one before any refresh)."""
        return self._folded.book if self._folded is not None else self.base()

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        """Stored changes this deployment cannot apply, with the reason."""
        return self._folded.skipped if self._folded is not None else ()

    def reset(self) -> None:
        """Forget the packaged book and what was folded (a new runtime, maybe over another database or another
        ``JICAI_POLICY_DIR``: tests build several in one process)."""
        self._base, self._folded, self._seen, self._checked, self.watched = None, None, None, float("-inf"), None

    def due(self, *, force: bool = False) -> bool:
        return force or time.monotonic() - self._checked >= REFRESH_S

    def invalidate(self) -> None:
        """Check the stored changes at the next refresh (a handler met a policy error: it may be a change not folded yet)."""
        self._checked = float("-inf")

    async def refresh(self, session: AsyncSession, tables: EventTables, *, force: bool = False, own: bool = False) -> PolicyBook:
        """The book with every change stored so far; one small query unless the stored changes moved.

        ``own``: for a transaction that stored a change itself, the book with it, for that transaction alone: the
        process's book (what every request decides with) must not show a change before its commit, which may never
        come. Its commit calls ``invalidate``, so the next refresh folds it for everyone."""
        if own:
            sa_event.listen(session.sync_session, "after_commit", lambda _session: self.invalidate(), once=True)
            return fold(self.base(), await _stored_changes(session, tables)).book
        if not self.due(force=force):
            return self.book()
        # Checked from now on: the requests arriving while this one reads decide with the book as it is (at most
        # REFRESH_S stale), rather than each sending the same query (under load, every request of the wait did).
        self._checked = time.monotonic()
        t = tables.policy_changes
        columns: list[ColumnElement[Any]] = [func.max(t.c.position), func.count(), func.max(t.c.event_id)]
        row = tuple((await session.execute(select(*columns, *([] if self._watch is None else [self._watch])))).one())
        seen = row[:3]
        if self._watch is not None:
            self.watched = row[3]
        if seen == self._seen and self._folded is not None:
            return self._folded.book
        self._folded, self._seen = fold(self.base(), await _stored_changes(session, tables)), seen
        return self._folded.book


async def _stored_changes(session: AsyncSession, tables: EventTables) -> list[PolicyChange]:
    t = tables.policy_changes
    rows = (await session.execute(select(t.c.event_id, t.c.event_type, t.c.data).order_by(t.c.position))).all()
    return [change_of(r.event_id, event_registry.parse(r.event_type, dict(r.data))) for r in rows]


def consumer_subscriptions(then: Callable[..., Any] | None = None) -> tuple[Subscription, ...]:
    """Handlers that store every policy change (``then(uow, envelope, event)`` after storing a new one, e.g. alerts
    deciding what waited for a calendar year)."""

    async def on_policy_change(uow: UnitOfWork, envelope: Envelope, event: IntegrationEvent) -> None:
        if await store_change(uow.session, uow.tables, envelope.id, event) and then is not None:
            await then(uow, envelope, event)

    return tuple(Subscription(event, on_policy_change) for event in POLICY_EVENTS)


async def refresh_for_request(request: Request) -> None:
    """Before every route, after the consistency tokens (``jicai_kit.http.before_each_route``): the book this request decides with."""
    runtime = request.app.state.runtime
    policy: FoldedPolicy | None = getattr(runtime, "policy", None)
    if policy is None or not policy.due(force="after" in request.query_params):
        return
    try:
        async with runtime.read_session_factory() as session:  # autocommit: no BEGIN and ROLLBACK round trips
            await policy.refresh(session, runtime.tables, force=True)
    except Exception as exc:
        if not database_unreachable(exc):
            raise
        # /healthz and /readyz answer without the database; a request that needs it answers 503 on its own
