"""Idempotent, transactional event consumer with a dead-letter topic.

For each message: open a unit of work, claim the event id in
``processed_events`` (``INSERT … ON CONFLICT DO NOTHING``: a redelivered
event, even one another instance is handling right now, finds it taken and
changes nothing), run the handler, commit; only then commit the Kafka offset.
An event that cannot be handled goes to the dead-letter topic with the
reason, is recorded as dead-lettered, and shows in metrics: never silently
skipped.

Rebalances: a partition revoked from this instance is not touched again: the
record in hand finishes, its offset is committed, the rest of the fetched
batch of that partition is left to the new owner.

A consumer that subscribes to ``DayClosed`` decides business days only
behind the watermarks of every partition it reads (``jicai_events.watermarks``).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from jicai_events import watermarks
from jicai_events.base import IntegrationEvent, UnknownEventType, event_registry
from jicai_events.catalog.clock import DayClosed, DayCloseReached
from jicai_events.envelope import Envelope
from jicai_events.metrics import (
    CONSUMER_LAG,
    DAY_CLOSE_OLDEST_PENDING,
    DAY_CLOSE_PARTITIONS_BEHIND,
    DAY_CLOSE_PENDING,
    DAY_CLOSED_THROUGH,
    DEAD_LETTERS,
    EVENTS_CONSUMED,
)
from jicai_events.store import ConcurrencyConflict
from jicai_events.tables import EventTables
from jicai_events.topics import CLOCK
from jicai_events.topics import DEAD_LETTERS as DEAD_LETTER_TOPIC
from jicai_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
AfterHandling = Callable[[UnitOfWork], Awaitable[None]]

CLOCK_CHECK_INTERVAL_S = 5.0
"""How often a day-deciding consumer looks again at its held-back closes (a crash between a
watermark's commit and its decision leaves nothing undecided for longer)."""


class Unprocessable(Exception):
    """A handler's verdict that this event can never be applied (goes to dead letters)."""


@dataclass(frozen=True)
class Subscription:
    event: type[IntegrationEvent]
    handler: Handler


class _RevocationGuard(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner._partitions_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._owner._partitions_assigned(set(assigned))


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        name: str,
        consumer: AIOKafkaConsumer | None,
        dead_letter_producer: AIOKafkaProducer | None,
        session_factory: async_sessionmaker[AsyncSession],
        tables: EventTables,
        subscriptions: list[Subscription],
    ) -> None:
        self.service = service
        self.name = name
        self._consumer = consumer
        self._dlq = dead_letter_producer
        self._factory = session_factory
        self._tables = tables
        self._handlers = {s.event.type_name(): s.handler for s in subscriptions}
        self._decides_days = DayClosed.type_name() in self._handlers
        self._in_hand = asyncio.Lock()  # held while one record is handled
        self._revoked: set[TopicPartition] = set()
        self._handled: dict[TopicPartition, int] = {}  # next offset to commit, per partition
        self._last_clock_check = 0.0
        self._marks: dict[tuple[str, int], date] = {}  # markers read, not yet written (flushed before offsets)
        self._clock_moved = False  # a marker or close arrived: try to decide

    def bind(self, consumer: AIOKafkaConsumer) -> None:
        """Use ``consumer`` (made with ``rebalance_listener()``) to read Kafka."""
        self._consumer = consumer

    def rebalance_listener(self) -> ConsumerRebalanceListener:
        return _RevocationGuard(self)

    async def run(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None and self._dlq is not None, "run() needs Kafka clients"
        while not stop.is_set():
            batches = await self._consumer.getmany(timeout_ms=200, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    async with self._in_hand:
                        if tp in self._revoked:
                            break  # another instance owns it now; it starts from the committed offset
                        await self._process(record)
                        self._handled[tp] = record.offset + 1
                # Offsets only after every record of the batch is committed in the database.
                await self._commit_handled()
            if self._clock_moved or (self._decides_days and time.monotonic() - self._last_clock_check > CLOCK_CHECK_INTERVAL_S):
                await self._advance_clock()
            await self._report_lag()

    async def _partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._revoked |= revoked
        async with self._in_hand:  # let the record in hand finish, then hand over its offset
            await self._commit_handled(only=revoked)

    def _partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._revoked -= assigned

    async def _commit_handled(self, only: set[TopicPartition] | None = None) -> None:
        assert self._consumer is not None
        await self._flush_watermarks()  # a marker's offset is never committed before its watermark
        offsets = {tp: off for tp, off in self._handled.items() if only is None or tp in only}
        for tp in offsets:
            del self._handled[tp]
        if not offsets:
            return
        try:
            await self._consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:
            # The group moved on: the new owner redelivers from the last commit and the claims dedupe.
            log.warning("consumer %s could not commit %s after a rebalance: %s", self.name, offsets, exc)

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(record, None, f"not a CloudEvents envelope: {exc}")
            return
        if self._decides_days and watermarks.is_marker(envelope.type):
            await self._on_marker(record, envelope)
            return
        handler = self._handlers.get(envelope.type)
        if handler is None:
            # Another consumer's event on a shared topic, or a newer type we don't read.
            EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, "ignored").inc()
            return
        try:
            event = envelope.event()
        except (ValidationError, UnknownEventType) as exc:
            await self._dead_letter(record, envelope, f"invalid {envelope.type}: {exc}")
            return
        if self._decides_days and isinstance(event, DayClosed):
            await self._on_day_closed(envelope, event)
            return
        try:
            outcome = await self._handle_with_retries(envelope, event, handler)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the dead-letter topic
            log.exception("consumer %s could not handle %s %s", self.name, envelope.type, envelope.id)
            await self._dead_letter(record, envelope, f"{type(exc).__name__}: {exc}")
            return
        EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, outcome).inc()

    async def deliver(self, envelope: Envelope) -> str:
        """Handle one envelope exactly as a Kafka delivery would, minus Kafka (for tests and replays).

        A ``DayClosed`` is decided at once: there are no partitions to wait for."""
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return "ignored"
        return await self._handle_with_retries(envelope, envelope.event(), handler)

    # -- business time behind the watermarks ---------------------------------------------------------

    async def _on_marker(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope) -> None:
        """Markers of one poll are written together, before their offsets are committed."""
        marker = envelope.event()
        assert isinstance(marker, DayCloseReached)
        key = (record.topic, record.partition)
        self._marks[key] = max(self._marks.get(key, marker.business_date), marker.business_date)
        EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, "watermark").inc()

    async def _flush_watermarks(self) -> None:
        if not self._marks:
            return
        marks, self._marks = self._marks, {}

        async def write(session: AsyncSession) -> None:
            for (topic, partition), day in sorted(marks.items()):
                await watermarks.raise_watermark(session, self._tables, self.name, topic, partition, day)

        await self._write(write)
        self._clock_moved = True

    async def _on_day_closed(self, envelope: Envelope, event: DayClosed) -> None:
        async def write(session: AsyncSession) -> None:
            await watermarks.record_day_close(session, self._tables, self.name, envelope, event.business_date)

        await self._write(write)
        EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, "requested").inc()
        self._clock_moved = True

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
        handler = self._handlers[DayClosed.type_name()]
        async with self._factory() as session, session.begin():
            # One decider at a time across instances: each sees the others' committed watermarks.
            await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"jicai-day-close:{self.name}"})
            through = await watermarks.watermark(session, self._tables, self.name, expected)
            ready = await watermarks.decidable_day_closes(session, self._tables, self.name, through) if through else []
            for day_closed in ready:
                event = day_closed.event()
                assert isinstance(event, DayClosed)

                async def decided(uow: UnitOfWork, day: DayClosed = event) -> None:
                    await watermarks.mark_decided(uow.session, self._tables, self.name, day.business_date)

                outcome = await self._handle_with_retries(day_closed, event, handler, then=decided)
                EVENTS_CONSUMED.labels(self.service, self.name, day_closed.type, outcome).inc()
            await self._report_clock(session, expected)

    async def _report_clock(self, session: AsyncSession, expected: set[tuple[str, int]]) -> None:
        position = next(iter(await watermarks.clock_positions(session, self._tables, self.name)), None)
        labels = (self.service, self.name)
        pending = position.pending if position else []
        DAY_CLOSE_PENDING.labels(*labels).set(len(pending))
        since = position.oldest_pending_since if position else None
        DAY_CLOSE_OLDEST_PENDING.labels(*labels).set(since.timestamp() if since else 0)
        if position and position.last_decided:
            DAY_CLOSED_THROUGH.labels(*labels).set(datetime.combine(position.last_decided, clock_time(), UTC).timestamp())
        reached = {(m.topic, m.partition): m.closed_through for m in position.watermarks} if position else {}
        for topic in {t for t, _ in expected}:
            behind = [tp for tp in expected if tp[0] == topic and _holds_back(reached.get(tp), pending)]
            DAY_CLOSE_PARTITIONS_BEHIND.labels(*labels, topic).set(len(behind))

    async def _write(self, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(DBAPIError), wait=wait_exponential(multiplier=0.1, max=5), reraise=True,
            stop=stop_after_attempt(1000),
        ):
            with attempt:
                async with self._factory.begin() as session:
                    await work(session)

    # -- handling ------------------------------------------------------------------------------------

    async def _handle_with_retries(
        self, envelope: Envelope, event: IntegrationEvent, handler: Handler, *, then: AfterHandling | None = None
    ) -> str:
        # The database being briefly away is retried until it is back; a
        # concurrency conflict a few times; anything else is a poison message.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((OperationalError, ConcurrencyConflict)),
            wait=wait_exponential(multiplier=0.1, max=5),
            stop=stop_after_attempt(1000),
            reraise=True,
        ):
            with attempt:
                return await self._handle_once(envelope, event, handler, then)
        raise AssertionError("unreachable")

    async def _handle_once(self, envelope: Envelope, event: IntegrationEvent, handler: Handler, then: AfterHandling | None) -> str:
        async with UnitOfWork(self._factory, self._tables) as uow:
            outcome = "duplicate"
            if await self._claim(uow.session, envelope.id, envelope.type, "handled"):
                uow.caused_by(envelope)
                await handler(uow, envelope, event)
                outcome = "handled"
            if then is not None:
                await then(uow)
        return outcome

    async def _claim(self, session: AsyncSession, event_id: str, event_type: str, outcome: str, reason: str | None = None) -> bool:
        """Take ``event_id`` for this consumer; False if it is taken (waits for a concurrent claimer to finish)."""
        t = self._tables.processed_events
        claimed = await session.execute(
            pg_insert(t)
            .values(consumer=self.name, event_id=event_id, event_type=event_type, outcome=outcome, reason=reason)
            .on_conflict_do_nothing(index_elements=[t.c.consumer, t.c.event_id])
            .returning(t.c.event_id)
        )
        return claimed.first() is not None

    async def _dead_letter(self, record: ConsumerRecord[bytes, bytes], envelope: Envelope | None, reason: str) -> None:
        event_type = envelope.type if envelope else "unparseable"
        headers = [
            ("x-dead-letter-reason", reason[:2000].encode()),
            ("x-original-topic", record.topic.encode()),
            ("x-original-partition", str(record.partition).encode()),
            ("x-original-offset", str(record.offset).encode()),
            ("x-consumer", self.name.encode()),
        ]
        assert self._dlq is not None
        await (await self._dlq.send(DEAD_LETTER_TOPIC.qualified(), value=record.value, key=record.key, headers=headers))
        event_id = envelope.id if envelope else f"{record.topic}:{record.partition}:{record.offset}"

        async def write(session: AsyncSession) -> None:
            await self._claim(session, event_id, event_type, "dead_lettered", reason[:4000])

        await self._write(write)
        DEAD_LETTERS.labels(self.service, self.name, event_type).inc()
        EVENTS_CONSUMED.labels(self.service, self.name, event_type, "dead_lettered").inc()

    async def _report_lag(self) -> None:
        assert self._consumer is not None
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await self._consumer.position(tp)
            except (IllegalStateError, KafkaError):
                continue  # revoked meanwhile
            CONSUMER_LAG.labels(self.service, self.name, tp.topic, str(tp.partition)).set(max(0, highwater - position))


def _holds_back(closed_through: date | None, pending: list[date]) -> bool:
    """A partition holds the oldest pending close back while its marker has not reached it."""
    return bool(pending) and (closed_through is None or closed_through < pending[0])


__all__ = ["EventConsumer", "Handler", "Subscription", "TopicPartition", "Unprocessable", "event_registry"]
