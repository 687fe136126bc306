"""Idempotent, transactional event consumer with a dead-letter topic.

For each message: open a unit of work, claim the event id in
``processed_events`` (``INSERT … ON CONFLICT DO NOTHING``: a redelivered
event, even one another instance is handling right now, finds it taken and
changes nothing), run the handler, commit; only then commit the Kafka offset.

Failing safely, nothing vanishes:

* What can never be applied as sent (not an envelope, an invalid payload, a
  handler's ``Unprocessable`` verdict) is dead-lettered: the dead-letter topic
  and the service's ``dead_letters`` table (``jicai_events.dead_letters``) get
  the message and the reason; an operator redrives it once the cause is fixed
  (``redrive``), through the same handler, exactly once.
* Anything else a handler raises is a fault of ours, not of the fact: it is
  retried a few times (``handler_attempts``), then its partition is *parked*
  (``jicai_events.parking``): paused, its offset left on the failing record,
  shown in ``/readyz`` and ``jicai_consumer_parked_partitions``. An operator
  resumes it after fixing the cause; a restart retries it too.
* The database being away is waited for, however long.

Claims older than the retention are pruned (never a dead-lettered one).

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
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from pydantic import ValidationError
from sqlalchemy import CursorResult, delete, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from jicai_events import dead_letters, watermarks
from jicai_events.base import IntegrationEvent, UnknownEventType, event_registry
from jicai_events.catalog.clock import DayClosed, DayCloseReached
from jicai_events.dead_letters import Origin
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
from jicai_events.parking import ParkedPartition, ParkedPartitions
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


PRUNE_INTERVAL_S = 3600.0
"""How often a consumer prunes claims older than its retention."""

TRANSIENT = (OperationalError, ConcurrencyConflict)
"""Failures retried until they pass: the database away, a concurrent writer of the same stream."""


class Unprocessable(Exception):
    """A handler's verdict that this event can never be applied as it is (goes to dead letters)."""


class AlreadySettled(Exception):
    """A redrive of a dead letter that is no longer dead (redriven or resolved meanwhile)."""


class _MustPark(Exception):
    """A handler kept failing for a reason that is not the event's: stop this partition here."""


@dataclass(frozen=True)
class Redriven:
    """The outcome of a redrive: ``handled`` (now applied) or ``refused`` (still dead, with the new reason)."""

    outcome: str
    dead_letter: dead_letters.DeadLetter


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
        handler_attempts: int = 3,
        processed_retention: timedelta = timedelta(days=30),
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
        self._attempts = handler_attempts
        self._retention = processed_retention
        self._last_prune = float("-inf")  # prune once on start
        self.parked = ParkedPartitions(service, name)

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
                        if tp in self._revoked or tp in self.parked:
                            break  # another instance owns it now / parked: it starts again from the failing record
                        try:
                            await self._process(record)
                        except _MustPark as exc:
                            self.parked.park(self._consumer, tp, record.offset, str(exc))
                            break
                        self._handled[tp] = record.offset + 1
                # Offsets only after every record of the batch is committed in the database.
                await self._commit_handled()
            if time.monotonic() - self._last_prune > PRUNE_INTERVAL_S:
                await self.prune()
            if self._clock_moved or (self._decides_days and time.monotonic() - self._last_clock_check > CLOCK_CHECK_INTERVAL_S):
                await self._advance_clock()
            await self._report_lag()

    def resume(self, topic: str, partition: int) -> ParkedPartition | None:
        """Consume a parked partition again, from its failing record (None: not parked here)."""
        assert self._consumer is not None
        return self.parked.resume(self._consumer, TopicPartition(topic, partition))

    async def _partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self._revoked |= revoked
        self.parked.forget(revoked)  # the next owner starts from the failing record and retries it
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
        origin, raw = Origin(record.topic, record.partition, record.offset), record.value or b""
        try:
            envelope = Envelope.from_bytes(raw)
        except (ValidationError, ValueError) as exc:
            outcome = await self._dead_letter(origin, raw, record.key, None, f"not a CloudEvents envelope: {exc}")
            EVENTS_CONSUMED.labels(self.service, self.name, "unparseable", outcome).inc()
            return
        if self._decides_days and watermarks.is_marker(envelope.type):
            await self._on_marker(record, envelope)
            return
        outcome = await self._receive(envelope, origin, raw, record.key)
        EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, outcome).inc()

    async def _receive(self, envelope: Envelope, origin: Origin, raw: bytes, key: bytes | None) -> str:
        """Apply, dead-letter or (raising ``_MustPark``) refuse to pass one envelope."""
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return "ignored"  # another consumer's event on a shared topic, or a newer type we don't read
        try:
            event = envelope.event()
        except (ValidationError, UnknownEventType) as exc:
            return await self._dead_letter(origin, raw, key, envelope, f"invalid {envelope.type}: {exc}")
        if self._decides_days and isinstance(event, DayClosed) and self._consumer is not None:
            await self._on_day_closed(envelope, event)
            return "requested"
        try:
            return await self._handle_with_retries(envelope, event, handler)
        except Unprocessable as exc:
            return await self._dead_letter(origin, raw, key, envelope, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            log.exception("consumer %s could not handle %s %s", self.name, envelope.type, envelope.id)
            raise _MustPark(f"{envelope.type} {envelope.id}: {type(exc).__name__}: {exc}") from exc

    async def deliver(self, envelope: Envelope, *, origin: Origin | None = None) -> str:
        """Handle one envelope as a Kafka delivery would, minus Kafka (for tests and replays).

        With an ``origin`` (where it would have been read) a refusal is dead-lettered as from
        Kafka; without one, whatever the handler raises is raised. A ``DayClosed`` is decided
        at once: there are no partitions to wait for."""
        if origin is None:
            handler = self._handlers.get(envelope.type)
            if handler is None:
                return "ignored"
            return await self._handle_with_retries(envelope, envelope.event(), handler)
        try:
            return await self._receive(envelope, origin, envelope.to_bytes(), envelope.partitionkey.encode())
        except _MustPark as exc:
            raise (exc.__cause__ or exc) from None

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
        self, envelope: Envelope, event: IntegrationEvent, handler: Handler, *, then: AfterHandling | None = None,
        redrive: dead_letters.DeadLetter | None = None,
    ) -> str:
        # The database being away and concurrency conflicts are retried until they pass;
        # anything else but a verdict a few times (it may be a passing fault of ours).
        def give_up(state: RetryCallState) -> bool:
            failed = state.outcome.exception() if state.outcome else None
            return not isinstance(failed, TRANSIENT) and state.attempt_number >= self._attempts

        async for attempt in AsyncRetrying(
            retry=retry_if_not_exception_type((Unprocessable, AlreadySettled)),
            wait=wait_exponential(multiplier=0.1, max=5),
            stop=give_up,
            reraise=True,
        ):
            with attempt:
                return await self._handle_once(envelope, event, handler, then, redrive)
        raise AssertionError("unreachable")

    async def _handle_once(
        self, envelope: Envelope, event: IntegrationEvent, handler: Handler, then: AfterHandling | None,
        redrive: dead_letters.DeadLetter | None = None,
    ) -> str:
        async with UnitOfWork(self._factory, self._tables) as uow:
            outcome = "duplicate"
            if redrive is not None:
                await self._unclaim_dead_letter(uow.session, redrive)
            if await self._claim(uow.session, envelope.id, envelope.type, "handled"):
                uow.caused_by(envelope)
                await handler(uow, envelope, event)
                outcome = "handled"
            if then is not None:
                await then(uow)
        return outcome

    async def _unclaim_dead_letter(self, session: AsyncSession, dead: dead_letters.DeadLetter) -> None:
        """Free a dead letter's claim for its redrive (locked: two redrives of it never both apply)."""
        locked = await dead_letters.one(session, self._tables, dead.id, for_update=True)
        if locked is None or locked.status is not dead_letters.Status.DEAD:
            raise AlreadySettled(f"dead letter {dead.id} was settled meanwhile")
        t = self._tables.processed_events
        await session.execute(
            delete(t).where(t.c.consumer == self.name, t.c.event_id == dead.event_id, t.c.outcome == "dead_lettered")
        )

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

    async def _dead_letter(self, origin: Origin, raw: bytes, key: bytes | None, envelope: Envelope | None, reason: str) -> str:
        event_type = envelope.type if envelope else "unparseable"
        if self._dlq is not None:
            headers = [
                ("x-dead-letter-reason", reason[:2000].encode()),
                ("x-original-topic", (origin.topic or "").encode()),
                ("x-original-partition", str(origin.partition).encode()),
                ("x-original-offset", str(origin.offset).encode()),
                ("x-consumer", self.name.encode()),
            ]
            await (await self._dlq.send(DEAD_LETTER_TOPIC.qualified(), value=raw, key=key, headers=headers))
        event_id = envelope.id if envelope else f"{origin.topic}:{origin.partition}:{origin.offset}"

        async def write(session: AsyncSession) -> None:
            # The claim and the dead letter together: a redelivery finds it taken, a redrive replaces the claim.
            if await self._claim(session, event_id, event_type, "dead_lettered", reason[:dead_letters.MAX_REASON]):
                await dead_letters.record(
                    session, self._tables, consumer=self.name, event_id=event_id, event_type=event_type, origin=origin,
                    message=raw, reason=reason,
                )

        await self._write(write)
        DEAD_LETTERS.labels(self.service, self.name, event_type).inc()
        return "dead_lettered"

    # -- redrive and pruning -------------------------------------------------------------------------

    async def redrive(self, dead_letter_id: int) -> Redriven | None:
        """Hand a dead letter's stored message to this consumer's handler (None: no such dead letter).

        Handled: the dead-lettered claim is replaced by the handled one in the handler's own
        transaction (exactly once) and the dead letter becomes ``redriven``. Refused again
        (or failing): nothing of it is applied; count, last seen and reason are updated."""
        async with self._factory.begin() as session:
            found = await dead_letters.one(session, self._tables, dead_letter_id)
        if found is None or found.consumer != self.name:
            return None
        if found.status is not dead_letters.Status.DEAD:
            raise AlreadySettled(f"dead letter {dead_letter_id} is {found.status.value}, not dead")
        try:
            envelope = Envelope.from_bytes(found.message)
            handler = self._handlers.get(envelope.type)
            if handler is None:
                raise Unprocessable(f"{self.name} does not handle {envelope.type}")
            event = envelope.event()

            async def settled(uow: UnitOfWork) -> None:
                await dead_letters.settle(uow.session, self._tables, found.id, dead_letters.Status.REDRIVEN)

            outcome = await self._handle_with_retries(envelope, event, handler, then=settled, redrive=found)
        except AlreadySettled:
            raise
        except Exception as exc:  # noqa: BLE001 - any refusal is recorded on the dead letter, not lost
            async with self._factory.begin() as session:
                await dead_letters.refused_again(session, self._tables, found.id, f"{type(exc).__name__}: {exc}")
            outcome = "refused"
        async with self._factory.begin() as session:
            after = await dead_letters.one(session, self._tables, found.id)
        assert after is not None
        EVENTS_CONSUMED.labels(self.service, self.name, found.event_type, f"redrive_{outcome}").inc()
        return Redriven(outcome, after)

    async def prune(self, now: datetime | None = None) -> int:
        """Forget claims older than the retention (never a dead-lettered one): how many went."""
        self._last_prune = time.monotonic()
        t = self._tables.processed_events
        before = (now or datetime.now(UTC)) - self._retention
        async with self._factory.begin() as session:
            pruned = await session.execute(
                delete(t)
                .where(t.c.consumer == self.name, t.c.outcome != "dead_lettered", t.c.processed_at < before)
            )
            count: int = cast(CursorResult[Any], pruned).rowcount
        if count:
            log.info("consumer %s pruned %d processed ids older than %s", self.name, count, before)
        return count

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


__all__ = ["AlreadySettled", "EventConsumer", "Handler", "Origin", "Redriven", "Subscription", "TopicPartition", "Unprocessable", "event_registry"]
