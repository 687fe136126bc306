"""Business time behind the watermarks: a consumer that subscribes to ``DayClosed`` decides days in order.

A ``DayClosed`` read is only recorded as requested; the day is decided (the
handler runs) once every partition the consumer reads carries a watermark
marker at or past it (``jicai_events.watermarks``): no record of that day can
still be on its way. Markers of one poll are written together, before their
offsets are committed.

Several instances of the group: the one that takes the advisory lock first decides
the close (the others do not wait for the lock, they go on consuming); a service
that closes days in chunks may give the consumer ``ShareDayClose``, which every
instance runs every ``SHARE_INTERVAL_S`` to decide chunks of the close in progress,
the partitions it is assigned first (``assigned_partitions``); every
``SHARE_IDLE_INTERVAL_S`` while it has seen no business time move for ``SHARE_ACTIVE_S``; never while it is assigned every
partition it reads (alone in its group: ``_shares``).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime
from datetime import time as clock_time

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events import watermarks
from jicai_events.base import IntegrationEvent
from jicai_events.batches import BatchedHandling
from jicai_events.catalog.clock import DayClosed, DayCloseReached
from jicai_events.envelope import Envelope
from jicai_events.handling import log_handled
from jicai_events.metrics import (
    DAY_CLOSE_OLDEST_PENDING,
    DAY_CLOSE_PARTITIONS_BEHIND,
    DAY_CLOSE_PENDING,
    DAY_CLOSED_THROUGH,
    EVENTS_CONSUMED,
)
from jicai_events.topics import CLOCK
from jicai_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

ShareDayClose = Callable[[UnitOfWork], Awaitable[bool]]
"""Decides this instance's share of a day close another instance opened, if one is in progress (``UnitOfWork``: for
siblings, one transaction per chunk); never waits for the chunks of the others. True if a close was in progress."""

SHARE_INTERVAL_S = 0.25
"""How often every instance looks for a day close in progress to take its share of (one small query when none: four a
second cost nothing measurable, while a second's delay left a close of 10,000 invoices, ~3 s, to one instance for a third
of its time)."""

SHARE_ACTIVE_S = 30.0
SHARE_IDLE_INTERVAL_S = 2.0
"""How often an instance looks for a close in progress once it has read no marker or ``DayClosed`` and found no close
for ``SHARE_ACTIVE_S`` (nor started: one joining its group mid-close reads none of that day's markers). A close opens
behind the markers of its day, which every instance reads on its partitions first: an idle service no longer asks four
times a second, and a close finds every instance asking at ``SHARE_INTERVAL_S``."""

SHARE_JOIN_S = 10.0
"""How long an instance asks at ``SHARE_INTERVAL_S`` after its partitions are assigned (started, or a rebalance), unless
business time moves: a close already open it finds at its first look; one opening behind markers its partitions'
previous owner read (it reads none of them) opens within the decider's next clock check (5 s). For the rest of the
``SHARE_ACTIVE_S`` its alerts asked four times a second for nothing after every start."""

_ASSIGNED: ContextVar[frozenset[tuple[str, int]] | None] = ContextVar("jicai_assigned_partitions", default=None)


@contextmanager
def assigned(partitions: frozenset[tuple[str, int]] | None) -> Iterator[None]:
    """Within: ``partitions`` (topic on the broker, partition) are those of the consumer at work in this task."""
    token = _ASSIGNED.set(partitions)
    try:
        yield
    finally:
        _ASSIGNED.reset(token)


def assigned_partitions(topic: str) -> frozenset[int] | None:
    """The partitions of ``topic`` (its name on the broker) assigned to the consumer deciding a day close or its share
    in this task; None outside a consumer reading Kafka (a test delivering envelopes, a tool: all are this one's)."""
    assigned = _ASSIGNED.get()
    return None if assigned is None else frozenset(p for t, p in assigned if t == topic)


class DayCloses(BatchedHandling):
    """The day-deciding part of ``EventConsumer`` (which sets these up and reads Kafka)."""

    _consumer: AIOKafkaConsumer | None
    _decides_days: bool
    _last_clock_check: float
    _marks: dict[tuple[str, int], date]
    _clock_moved: bool
    _closes_waiting: bool
    _share_day_close: ShareDayClose | None
    _last_share: float
    _clock_seen: float
    """When business time last moved here (a marker or a ``DayClosed`` read, a close in progress found)."""

    async def _intercept(self, envelope: Envelope, event: IntegrationEvent) -> str | None:
        if self._decides_days and isinstance(event, DayClosed) and self._consumer is not None:
            await self._on_day_closed(envelope, event)
            return "requested"
        return None


    # -- business time behind the watermarks ---------------------------------------------------------

    async def _on_marker(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> None:
        """Markers of one poll are written together, before their offsets are committed."""
        marker = envelope.event()
        assert isinstance(marker, DayCloseReached)
        key = (record.topic, record.partition)
        self._clock_seen = time.monotonic()
        self._marks[key] = max(self._marks.get(key, marker.business_date), marker.business_date)
        EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, "watermark").inc()

    async def _flush_watermarks(self) -> None:
        if not self._marks:
            return
        marks, self._marks = self._marks, {}

        async def write(session: AsyncSession) -> None:
            await watermarks.raise_watermarks(session, self._tables, self.name, marks)

        await self._write(write)
        self._clock_moved = True

    async def _on_day_closed(self, envelope: Envelope, event: DayClosed) -> None:
        await self._record_closes([(envelope, event)])

    async def _record_closes(self, closes: Sequence[tuple[Envelope, DayClosed]]) -> None:
        """Record requested closes (a poll's run of them in one transaction: a range of days is published at once)."""
        async def write(session: AsyncSession) -> None:
            await watermarks.record_day_closes(session, self._tables, self.name, [(envelope, event.business_date) for envelope, event in closes])

        await self._write(write)
        for envelope, _ in closes:
            EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, "requested").inc()
            log_handled(self.name, envelope, "requested")
        self._clock_moved = True
        self._clock_seen = time.monotonic()

    def _expected_partitions(self) -> set[tuple[str, int]] | None:
        """Every partition of every topic this consumer reads besides the clock's (None: metadata not known yet)."""
        assert self._consumer is not None
        expected: set[tuple[str, int]] = set()
        for topic in self._consumer.subscription() - {CLOCK.qualified()}:
            partitions = self._consumer.partitions_for_topic(topic)
            if not partitions:
                return None
            expected |= {(topic, p) for p in partitions}
        return expected

    async def _advance_clock(self) -> None:
        """Decide, oldest first, every requested day close that all watermarks have reached."""
        self._last_clock_check, self._clock_moved = time.monotonic(), False
        await self._flush_watermarks()
        self._clock_moved = False
        expected = self._expected_partitions()
        if expected is None:
            return
        async with self._factory() as session, session.begin():
            # One decider at a time across instances: each sees the others' committed watermarks. Not waited for: the
            # decider may be closing a day for minutes, while this instance consumes and takes its share of the close.
            decider = await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": f"jicai-day-close:{self.name}"})
            position = await self._clock_position(session)
            if decider:
                with assigned(self._assignment()):
                    if await self._decide_ready(session, expected, position):
                        position = await self._clock_position(session)  # what is left after deciding
            else:
                self._clock_moved = True  # again after the next poll: a day this instance recorded may wait for it
            self._report_clock(position, expected)

    async def _clock_position(self, session: AsyncSession) -> watermarks.ClockPosition | None:
        return next(iter(await watermarks.clock_positions(session, self._tables, self.name)), None)

    async def _decide_ready(self, session: AsyncSession, expected: set[tuple[str, int]], position: watermarks.ClockPosition | None) -> bool:
        """Decide the closes ``position`` shows pending at or before the watermark; False if there were none (its
        envelopes are read only then: most checks follow a marker that completes no day)."""
        through = watermarks.reached_through(position.watermarks, expected) if position else None
        if through is None or not position or not position.pending or position.pending[0] > through:
            return False
        ready = await watermarks.decidable_day_closes(session, self._tables, self.name, through)
        if len(ready) > 1 and DayClosed.type_name() in self._batch_handlers and await self._decide_together(ready):
            return True
        handler = self._handlers[DayClosed.type_name()]
        for day_closed in ready:
            event = day_closed.event()
            assert isinstance(event, DayClosed)

            async def decided(uow: UnitOfWork, day: DayClosed = event) -> None:
                await watermarks.mark_decided(uow.session, self._tables, self.name, [day.business_date])

            outcome = await self._handle_with_retries(day_closed, event, handler, then=decided)
            EVENTS_CONSUMED.labels(self.service, self.name, day_closed.type, outcome).inc()
            log_handled(self.name, day_closed, outcome)
        return bool(ready)

    async def _decide_together(self, ready: list[Envelope]) -> bool:
        """Decide every ready close in one unit of work, for a handler with a set-based twin (a service's markers:
        a range of days closed at once costs one transaction). False if that failed: rolled back, the caller decides
        the days one by one, which retries and refuses exactly as for one close."""
        closes: list[tuple[Envelope, DayClosed]] = []
        for envelope in ready:
            event = envelope.event()
            assert isinstance(event, DayClosed)
            closes.append((envelope, event))
        try:
            async with UnitOfWork(self._factory, self._tables) as uow:
                claimed = await self._claim_many(uow.session, sorted((envelope.id, envelope.type) for envelope in ready))
                await self._batch_handlers[DayClosed.type_name()](uow, [(e, event) for e, event in closes if e.id in claimed])
                await watermarks.mark_decided(uow.session, self._tables, self.name, [event.business_date for _, event in closes])
        except Exception as exc:  # noqa: BLE001 - one by one decides what it was
            log.info("consumer %s: deciding %d day closes together failed (%s: %s); deciding them one by one",
                     self.name, len(ready), type(exc).__name__, exc)
            return False
        for envelope in ready:
            outcome = "handled" if envelope.id in claimed else "duplicate"
            EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, outcome).inc()
            log_handled(self.name, envelope, outcome)
        return True

    def _assignment(self) -> frozenset[tuple[str, int]] | None:
        if self._consumer is None:
            return None
        return frozenset((tp.topic, tp.partition) for tp in self._consumer.assignment())

    def _joined(self) -> None:
        """Partitions assigned: look for a close in progress often for ``SHARE_JOIN_S`` (``SHARE_ACTIVE_S`` if time moved)."""
        self._clock_seen = max(self._clock_seen, time.monotonic() - SHARE_ACTIVE_S + SHARE_JOIN_S)

    def _share_active(self) -> bool:
        return time.monotonic() - self._clock_seen < SHARE_ACTIVE_S

    def _shares(self) -> bool:
        """Whether this instance looks for closes in progress to take its share of: not while it is assigned every
        partition it reads (one instance, the common case), as a close in progress is then its own, whose decider takes
        every chunk, or a killed instance's, which the next decider resumes; a sibling that opens one while holding no
        partition decides it alone. One instance after each close asked four times a second for 30 s (~0.01 of a core
        and a transaction each time) for nothing."""
        if self._share_day_close is None:
            return False
        if self._consumer is None:
            return True  # envelopes delivered by a test or a tool: no assignment to go by
        expected, assignment = self._expected_partitions(), self._assignment()
        return expected is None or assignment is None or not expected <= assignment

    def _share_due(self) -> bool:
        if not self._shares():
            return False
        interval = SHARE_INTERVAL_S if self._share_active() else SHARE_IDLE_INTERVAL_S
        return time.monotonic() - self._last_share > interval

    async def _take_share(self) -> None:
        """This instance's share of a day close in progress (``ShareDayClose``); a failure is left to the next round or
        to the decider, which takes whatever is left."""
        self._last_share = time.monotonic()
        if self._share_day_close is None:
            return
        try:
            with assigned(self._assignment()):
                if await self._share_day_close(UnitOfWork(self._factory, self._tables)):
                    self._clock_seen = time.monotonic()
        except Exception as exc:  # noqa: BLE001 - a chunk rolled back stays queued for the next round or the decider
            log.warning("consumer %s: its share of a day close failed (%s: %s); retried in %.0f s",
                        self.name, type(exc).__name__, exc, SHARE_INTERVAL_S)

    def _report_clock(self, position: watermarks.ClockPosition | None, expected: set[tuple[str, int]]) -> None:
        labels = (self.service, self.name)
        pending = position.pending if position else []
        self._closes_waiting = bool(pending)
        DAY_CLOSE_PENDING.labels(*labels).set(len(pending))
        since = position.oldest_pending_since if position else None
        DAY_CLOSE_OLDEST_PENDING.labels(*labels).set(since.timestamp() if since else 0)
        if position and position.last_decided:
            DAY_CLOSED_THROUGH.labels(*labels).set(datetime.combine(position.last_decided, clock_time(), UTC).timestamp())
        reached = {(m.topic, m.partition): m.closed_through for m in position.watermarks} if position else {}
        for topic in {t for t, _ in expected}:
            behind = [tp for tp in expected if tp[0] == topic and _holds_back(reached.get(tp), pending)]
            DAY_CLOSE_PARTITIONS_BEHIND.labels(*labels, topic).set(len(behind))



def _holds_back(closed_through: date | None, pending: list[date]) -> bool:
    """A partition holds the oldest pending close back while its marker has not reached it."""
    return bool(pending) and (closed_through is None or closed_through < pending[0])
