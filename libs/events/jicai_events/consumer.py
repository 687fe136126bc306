"""Reading Kafka for a consumer group: offsets after the handling transaction, rebalances, parking, business time.

The records of one partition in one poll are handled in batches of at most
``BATCH_SIZE`` (``EventHandling.handle_batch``: one claim for all their ids,
the handlers, one commit); a batch that fails is handled again record by
record (claim the event id, handle it, commit, or dead-letter it). Records the
batch cannot take (not an envelope, an invalid payload, a watermark marker, a
``DayClosed``) are handled one by one where they stand, in order. Only then
are the Kafka offsets committed. A handler that keeps failing for a reason of ours
parks its partition (``jicai_events.parking``): paused at the failing record,
nothing behind it applied, until an operator resumes it or a restart retries it.
Claims older than the retention are pruned at start and hourly.

Rebalances: a partition revoked from this instance is not touched again: the
record in hand finishes, its offset is committed, the rest of the fetched
batch of that partition is left to the new owner; a parked partition revoked
is retried by its next owner.

A consumer that subscribes to ``DayClosed`` decides business days only
behind the watermarks of every partition it reads (``jicai_events.day_closes``).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Coroutine
from datetime import date, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jicai_events import watermarks
from jicai_events.base import UnknownEventType
from jicai_events.catalog.clock import DayClosed
from jicai_events.day_closes import SHARE_IDLE_INTERVAL_S, DayCloses, ShareDayClose
from jicai_events.dead_letters import Origin
from jicai_events.envelope import Envelope
from jicai_events.metrics import CONSUMER_LAG, EVENTS_CONSUMED
from jicai_events.parking import ParkedPartition, ParkedPartitions
from jicai_events.subscriptions import MustPark, Subscription
from jicai_events.tables import EventTables

log = logging.getLogger(__name__)

CLOCK_CHECK_INTERVAL_S = 5.0
"""How often a day-deciding consumer looks again at its held-back closes (a crash between a
watermark's commit and its decision leaves nothing undecided for longer)."""

CLOCK_IDLE_CHECK_INTERVAL_S = 30.0
"""How often it looks when its last look found no close waiting. A close comes to it through its own poll (a
``DayClosed`` read: it looks at once); only one recorded by another instance of its group that then died before
deciding is found by this look alone. Every 5 s, the looks were half the CPU of an idle service."""

POLL_TIMEOUT_MS = 200
IDLE_POLL_TIMEOUT_MS = 5000
"""The longest an idle poll waits: records end it at once (the fetcher wakes it), so does a stop; it also ends when the
loop's own work is due (a clock check, a share poll, a prune). Polls of a second were each a few event-loop wake-ups
for nothing."""

LAG_REPORT_INTERVAL_S = 1.0
"""How often a consumer whose polls bring nothing sets its lag gauges (after a poll bringing records: at once); every
poll, five a second, an idle service spent more on them than on anything else."""

PRUNE_INTERVAL_S = 3600.0
"""How often a consumer prunes claims older than its retention."""

_DUE_SLACK_MS = 10
"""An idle poll ends this much after its work is due (the checks ask "more than the interval since")."""

BATCH_SIZE = 200
"""Records of one partition handled in one transaction at most (a poll returns at most as many)."""

Polled = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
"""What one poll brought, by partition."""

Taken = tuple[ConsumerRecord[bytes, bytes], Envelope, Any]
"""A record a batch can take: the record, its envelope, its event (None: a type this consumer ignores)."""


class _RevocationGuard(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: EventConsumer) -> None:
        self._owner = owner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._owner._partitions_revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._owner._partitions_assigned(set(assigned))


class EventConsumer(DayCloses):
    """Reads a consumer group's topics from Kafka and hands each record to ``EventHandling``."""

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
        day_close_share: ShareDayClose | None = None,
    ) -> None:
        super().__init__(
            service=service, name=name, dead_letter_producer=dead_letter_producer, session_factory=session_factory,
            tables=tables, subscriptions=subscriptions, handler_attempts=handler_attempts, processed_retention=processed_retention,
        )
        self._consumer = consumer
        self._decides_days = DayClosed.type_name() in self._handlers
        self._in_hand = asyncio.Lock()  # held while one record is handled
        self._revoked: set[TopicPartition] = set()
        self._handled: dict[TopicPartition, int] = {}  # next offset to commit, per partition
        self._last_clock_check = 0.0
        self._marks: dict[tuple[str, int], date] = {}  # markers read, not yet written (flushed before offsets)
        self._clock_moved = False  # a marker or close arrived: try to decide
        self._closes_waiting = True  # as the last look found (none known before the first)
        self._share_day_close = day_close_share if self._decides_days else None
        self._last_share = 0.0
        self._clock_seen = float("-inf")  # time moves when it reads a marker or a close; joining, ``_joined``
        self._last_prune = float("-inf")  # prune once on start
        self._last_lag_report = float("-inf")
        self.parked = ParkedPartitions(service, name)

    def bind(self, consumer: AIOKafkaConsumer) -> None:
        """Use ``consumer`` (made with ``rebalance_listener()``) to read Kafka."""
        self._consumer = consumer

    def rebalance_listener(self) -> ConsumerRebalanceListener:
        return _RevocationGuard(self)

    async def run(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None and self._dlq is not None, "run() needs Kafka clients"
        self.parked.reset()
        try:
            await self._read(stop)
        finally:
            self.parked.reset()

    async def _read(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None
        stopping = asyncio.ensure_future(stop.wait())
        try:
            while not stop.is_set():
                await self._read_once(stopping)
        finally:
            stopping.cancel()

    async def _poll(self, stopping: asyncio.Future[Any]) -> Polled:
        """One poll. Up to a batch per partition held: ``max_records`` bounds the whole poll, which aiokafka fills
        partition after partition, so a backlog on six partitions split each partition's run across polls into smaller
        batches, each paying a batch's fixed statements and commits. A long (idle) poll ends when the consumer stops."""
        assert self._consumer is not None
        timeout_ms = self._poll_timeout_ms()
        poll: Coroutine[Any, Any, Polled] = self._consumer.getmany(timeout_ms=timeout_ms, max_records=BATCH_SIZE * max(1, len(self._consumer.assignment())))
        if timeout_ms <= POLL_TIMEOUT_MS:
            return await poll
        polling = asyncio.ensure_future(poll)
        await asyncio.wait((polling, stopping), return_when=asyncio.FIRST_COMPLETED)
        if not polling.done():
            polling.cancel()  # stopping: nothing was taken from the fetcher yet
            with contextlib.suppress(asyncio.CancelledError):
                return await polling
            return {}
        return polling.result()

    async def _read_once(self, stopping: asyncio.Future[Any]) -> None:
        assert self._consumer is not None
        batches = await self._poll(stopping)
        for tp, records in batches.items():
            await self._take_partition(tp, records)
        # Offsets only after every record of the poll is committed in the database (one commit for the poll).
        await self._commit_handled()
        if time.monotonic() - self._last_prune > PRUNE_INTERVAL_S:
            self._last_prune = time.monotonic()
            await self.prune()
        if self._clock_moved or (self._decides_days and time.monotonic() - self._last_clock_check > self._clock_check_interval()):
            await self._advance_clock()
        if self._share_due():
            await self._take_share()
        if batches or time.monotonic() - self._last_lag_report > LAG_REPORT_INTERVAL_S:
            await self._report_lag()
        for tp in self.parked.due():
            self.parked.resume(self._consumer, tp)

    def _clock_check_interval(self) -> float:
        return CLOCK_CHECK_INTERVAL_S if self._closes_waiting else CLOCK_IDLE_CHECK_INTERVAL_S

    def _poll_timeout_ms(self) -> int:
        """How long a poll waits for records (they end it at once): 200 ms while the loop has work due soon (a day to
        decide, a close to share, a parked partition to retry), else until its next periodic work (at most 5 s)."""
        soon = self._clock_moved or self.parked.all() or (self._share_active() and self._shares())
        if soon:
            return POLL_TIMEOUT_MS
        due = [self._last_prune + PRUNE_INTERVAL_S]
        if self._decides_days:
            due.append(self._last_clock_check + self._clock_check_interval())
        if self._shares():
            due.append(self._last_share + SHARE_IDLE_INTERVAL_S)
        until_due_ms = (min(due) - time.monotonic()) * 1000 + _DUE_SLACK_MS
        return int(min(max(until_due_ms, POLL_TIMEOUT_MS), IDLE_POLL_TIMEOUT_MS))

    async def _take_partition(self, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        """One partition's records in order: runs a batch can take together, runs of ``DayClosed`` recorded together,
        the others one by one where they stand."""
        run: list[Taken] = []
        run_kind: str | None = None
        for record in records:
            kind, taken = self._kind(record)
            if run and (kind != run_kind or len(run) >= BATCH_SIZE):
                if not await self._take_run(tp, run_kind, run):
                    return
                run = []
            if taken is None:
                if not await self._take_one(tp, record):
                    return
                continue
            run.append(taken)
            run_kind = kind
        if run:
            await self._take_run(tp, run_kind, run)

    def _kind(self, record: ConsumerRecord[bytes, bytes]) -> tuple[str, Taken | None]:
        """How ``record`` is taken: in a ``batch`` or with the other requested ``close``s of a run (with its envelope and
        event; event None: a type this consumer ignores), or ``alone`` (None)."""
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except (ValidationError, ValueError):
            return "alone", None  # dead-lettered alone
        if self._decides_days and watermarks.is_marker(envelope.type):
            return "alone", None  # markers are kept only behind the records before them
        if envelope.type not in self._handlers:
            return "batch", (record, envelope, None)
        try:
            event = envelope.event()
        except (ValidationError, UnknownEventType):
            return "alone", None  # dead-lettered alone
        if self._decides_days and isinstance(event, DayClosed):
            return "close", (record, envelope, event)  # recorded now, decided behind the watermarks
        return "batch", (record, envelope, event)

    async def _take_run(self, tp: TopicPartition, kind: str | None, run: list[Taken]) -> bool:
        return await (self._record_run(tp, run) if kind == "close" else self._take_batch(tp, run))

    async def _record_run(self, tp: TopicPartition, closes: list[Taken]) -> bool:
        """Record a run of requested closes in one transaction; False if the partition stopped."""
        async with self._in_hand:
            if tp in self._revoked or tp in self.parked:
                return False
            await self._record_closes([(envelope, event) for _, envelope, event in closes])
            self._handled[tp] = closes[-1][0].offset + 1
            return True

    async def _take_batch(self, tp: TopicPartition, batch: list[Taken]) -> bool:
        """Handle ``batch`` in one transaction, or (it failed) record by record; False if the partition stopped."""
        async with self._in_hand:
            if tp in self._revoked or tp in self.parked:
                return False
            try:
                outcomes = await self.handle_batch([(envelope, event) for _, envelope, event in batch])
            except Exception as exc:  # noqa: BLE001 - one by one decides what it was (refusal, retry, park)
                log.info("consumer %s: a batch of %d on %s failed (%s: %s); handling it record by record",
                         self.name, len(batch), tp, type(exc).__name__, exc)
            else:
                counts = Counter((envelope.type, outcome) for (_, envelope, _), outcome in zip(batch, outcomes, strict=True))
                for (event_type, outcome), n in counts.items():
                    EVENTS_CONSUMED.labels(self.service, self.name, event_type, outcome).inc(n)
                self._handled[tp] = batch[-1][0].offset + 1
                return True
        for record, _, _ in batch:
            if not await self._take_one(tp, record):
                return False
        return True

    async def _take_one(self, tp: TopicPartition, record: ConsumerRecord[bytes, bytes]) -> bool:
        """Handle one record in its own transaction; False if the partition stopped (parked here, or revoked)."""
        assert self._consumer is not None
        async with self._in_hand:
            if tp in self._revoked or tp in self.parked:
                return False  # another instance owns it now / parked: it starts again from the failing record
            try:
                await self._process(record)
            except MustPark as exc:
                if tp not in self._revoked:  # revoked meanwhile: its next owner retries it
                    self.parked.park(self._consumer, tp, record.offset, str(exc), retries=exc.retries)
                return False
            self._handled[tp] = record.offset + 1
            return True

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
        self._joined()

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

    async def _report_lag(self) -> None:
        assert self._consumer is not None
        self._last_lag_report = time.monotonic()
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await self._consumer.position(tp)
            except (IllegalStateError, KafkaError):
                continue  # revoked meanwhile
            CONSUMER_LAG.labels(self.service, self.name, tp.topic, str(tp.partition)).set(max(0, highwater - position))


__all__ = ["EventConsumer"]
