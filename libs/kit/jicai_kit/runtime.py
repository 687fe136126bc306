"""The service runtime: database, outbox relay and consumers, supervised.

One runtime per process. The API process runs the relay and consumers as
background tasks by default (``JICAI_RUN_WORKERS``); ``run_worker_process``
runs them alone. A worker that fails (Kafka away, database restarting) is
restarted with backoff; nothing it had not committed is lost.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import partial
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from jicai_events import watermarks
from jicai_events.catalog import DayClosed
from jicai_events.consumer import EventConsumer
from jicai_events.day_closes import ShareDayClose
from jicai_events.envelope import Envelope
from jicai_events.kafka import KafkaProbe, ensure_topics, make_consumer, make_producer
from jicai_events.relay import OutboxRelay
from jicai_events.subscriptions import AwaitsOtherFacts, Subscription
from jicai_events.tables import EventTables
from jicai_events.topics import CLOCK, POLICY, Topic, namespace
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit import policy as policy_changes
from jicai_kit.settings import ServiceSettings
from jicai_policy import PolicyError

log = logging.getLogger(__name__)


class PolicyNotFolded(PolicyError, AwaitsOtherFacts):
    """A handler met a policy error for a fact another service accepted at its door: retried, then parked with this
    reason, and retried on its own (backing off) until this service's policy consumer has folded the change."""


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group of this service: which topics, which handlers."""

    name: str
    topics: tuple[Topic, ...]
    subscriptions: tuple[Subscription, ...]
    day_close_share: ShareDayClose | None = None
    """A consumer deciding days in chunks: takes this instance's share of a close another instance opened."""


class ClosedBusinessDay(Protocol):
    @property
    def business_date(self) -> date: ...
    @property
    def event_id(self) -> str: ...


LastClosedDay = Callable[[UnitOfWork], Awaitable[ClosedBusinessDay | None]]


class DayClosing(Protocol):
    """A day close deciding in chunks: which day, how far it has come."""

    @property
    def business_date(self) -> date: ...
    @property
    def invoices_due(self) -> int: ...
    @property
    def invoices_decided(self) -> int: ...
    @property
    def remaining(self) -> int: ...


ClosingDay = Callable[[UnitOfWork], Awaitable[DayClosing | None]]


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    tables: EventTables
    consumers: tuple[ConsumerSpec, ...] = ()
    last_closed_day: LastClosedDay | None = None
    """A service that decides by business day: the last day whose decisions it has taken (``GET /clock``)."""
    policy: policy_changes.FoldedPolicy | None = None
    """The service's policy book: packaged profiles + the policy topic's changes (``jicai_kit.policy``). A service with
    one consumes the policy topic (in its own ``<service>.policy`` group unless one of its consumers handles it)."""
    also_marks: tuple[str, ...] = ()
    """Other topics' owners whose day-close markers this service writes (contracts: the policy topic it writes)."""
    day_closing: ClosingDay | None = None
    """A service that closes a day in chunks: the close in progress, if any (``GET /clock``)."""
    engine: AsyncEngine = field(init=False)
    session_factory: async_sessionmaker[AsyncSession] = field(init=False)
    read_engine: AsyncEngine = field(init=False)
    """The engine for reads (``jicai_kit.commands.read_rows``): read-only transactions under REPEATABLE READ."""
    read_session_factory: async_sessionmaker[AsyncSession] = field(init=False)
    """Sessions for reads: one snapshot for every statement of a read, so a view read in several statements is never
    torn between two commits (autocommit, or READ COMMITTED, gave each statement its own: a volume-completion view
    showed a decided period with the status of before its decision). Read-only, they never fail to serialize."""
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    live: dict[str, EventConsumer] = field(init=False, default_factory=dict)
    """The consumers reading Kafka in this process, by name (to see and resume parked partitions)."""
    _topics: asyncio.Lock | None = field(init=False, default=None)
    """Held while the workers' topics are made sure of (made in the loop the workers run in)."""
    _topics_ensured: bool = field(init=False, default=False)
    _kafka_probe: KafkaProbe | None = field(init=False, default=None)
    """``/readyz``'s Kafka round trip, on one client kept between probes (made on the first)."""
    _dead_letters: AIOKafkaProducer | None = field(init=False, default=None)
    """One dead-letter producer for every consumer of the process (``_dead_letter_producer``)."""
    _dead_letters_made: asyncio.Lock | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        # No ping before each checkout (a round trip per request): a connection a database restart broke fails its
        # first statement instead (503, nothing recorded), and SQLAlchemy then replaces every pooled connection.
        self.engine = create_async_engine(self.settings.database_url, pool_size=10)
        self.session_factory = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_engine = self.engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        self.read_session_factory = async_sessionmaker(self.read_engine, expire_on_commit=False)

    @property
    def service(self) -> str:
        return self.settings.service_name

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """``read_only``: for reads alone (``jicai_kit.commands.query``); a write there would commit statement by statement."""
        return UnitOfWork(self.read_session_factory if read_only else self.session_factory, self.tables)

    @property
    def day_close_markers(self) -> ConsumerSpec:
        """Every service turns ``DayClosed`` into watermark markers on its own topic (``jicai_events.watermarks``)."""
        name = watermarks.marker_consumer_name(self.service)

        async def mark_all(uow: UnitOfWork, closes: Sequence[tuple[Envelope, DayClosed]]) -> None:
            for owner in (self.service, *self.also_marks):
                await watermarks.publish_markers(uow, closes, service=owner, consumer=name)

        async def mark(uow: UnitOfWork, envelope: Envelope, event: DayClosed) -> None:
            await mark_all(uow, [(envelope, event)])

        return ConsumerSpec(name=name, topics=(CLOCK,), subscriptions=(Subscription(DayClosed, mark, batch=mark_all),))

    @property
    def policy_consumer(self) -> tuple[ConsumerSpec, ...]:
        """``<service>.policy``: stores the policy topic's changes, unless a consumer of the service reads them already."""
        handled = {s.event for spec in self.consumers for s in spec.subscriptions}
        if self.policy is None or handled >= set(policy_changes.POLICY_EVENTS):
            return ()
        return (ConsumerSpec(name=f"{self.service}.policy", topics=(POLICY,), subscriptions=policy_changes.consumer_subscriptions()),)

    @property
    def all_consumers(self) -> tuple[ConsumerSpec, ...]:
        return (*self.consumers, *self.policy_consumer, self.day_close_markers)

    def start_workers(self) -> None:
        self._stop.clear()
        self._topics, self._topics_ensured = asyncio.Lock(), False
        self._dead_letters_made = asyncio.Lock()
        self._tasks.append(asyncio.create_task(self._supervise("outbox-relay", self._relay)))
        for spec in self.all_consumers:
            self._tasks.append(asyncio.create_task(self._supervise(spec.name, partial(self._consume, spec))))

    @property
    def workers_alive(self) -> bool:
        return all(not t.done() for t in self._tasks)

    async def stop(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=15)
        for t in self._tasks:
            t.cancel()
        self._tasks.clear()
        dead_letters, self._dead_letters = self._dead_letters, None
        if dead_letters is not None:
            await dead_letters.stop()
        if self._kafka_probe is not None:
            await self._kafka_probe.close()
        await self.engine.dispose()

    async def database_ready(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def kafka_ready(self) -> bool:
        if self._kafka_probe is None:
            self._kafka_probe = KafkaProbe(self.settings.kafka())
        return await self._kafka_probe.reachable()

    async def _supervise(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                await work()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s worker %s failed; restarting in %.1fs", self.service, name, delay)
                self._topics_ensured = False  # Kafka may have come back without them
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, 10.0)

    async def _ensure_topics(self) -> None:
        """Every topic exists: once for all the workers starting together (each asked the broker on its own)."""
        if self._topics is None:
            self._topics = asyncio.Lock()
        async with self._topics:
            if not self._topics_ensured:
                await ensure_topics(self.settings.kafka())
                self._topics_ensured = True

    async def _relay(self) -> None:
        await self._ensure_topics()
        producer = make_producer(self.settings.kafka(), f"{self.service}-relay")
        await producer.start()
        try:
            await OutboxRelay(self.service, self.engine, self.tables, producer).run(self._stop)
        finally:
            await producer.stop()

    async def _dead_letter_producer(self) -> AIOKafkaProducer:
        """The producer every consumer of the process dead-letters with: made and started by the first consumer to start,
        kept across a consumer's restarts (it reconnects on its own), stopped with the runtime. A producer per consumer
        was three to five more bootstraps and connections per service start, for messages that almost never come."""
        assert self._dead_letters_made is not None, "start_workers() makes the lock"
        async with self._dead_letters_made:
            if self._dead_letters is None:
                producer = make_producer(self.settings.kafka(), f"{self.service}-dead-letters")
                try:
                    await producer.start()
                except BaseException:
                    with contextlib.suppress(Exception):  # the start's error is the one to report
                        await producer.stop()
                    raise
                self._dead_letters = producer
            return self._dead_letters

    def consumer_spec(self, name: str) -> ConsumerSpec | None:
        return next((s for s in self.all_consumers if s.name == name), None)

    def event_consumer(self, spec: ConsumerSpec, consumer: Any = None, dead_letters: Any = None) -> EventConsumer:
        """The consumer of ``spec``; without Kafka clients it can still ``deliver`` envelopes."""
        return EventConsumer(
            service=self.service,
            name=spec.name,
            consumer=consumer,
            dead_letter_producer=dead_letters,
            session_factory=self.session_factory,
            tables=self.tables,
            subscriptions=[self._with_policy(s) for s in spec.subscriptions],
            handler_attempts=self.settings.handler_attempts,
            processed_retention=timedelta(days=self.settings.processed_retention_days),
            day_close_share=spec.day_close_share,
        )

    def _with_policy(self, subscription: Subscription) -> Subscription:
        """The handlers (one event, and the set-based one) decide with the policy changes stored so far (at once before
        a day close: the watermark guarantees the changes before it are stored, not that this process has folded them)."""
        policy, inner, batch = self.policy, subscription.handler, subscription.batch
        if policy is None:
            return subscription

        def behind(exc: PolicyError) -> PolicyNotFolded:
            # Ours, not the fact's: it passed the door of the service that recorded it, so this book is behind (a
            # change stored by another instance: the next attempt folds it) or lacks a profile the writer has.
            policy.invalidate()
            return PolicyNotFolded(f"{exc} (this service's policy book is behind the writer's: see GET /policy/changes; "
                                   f"retried on its own; a profile the writer has and this service lacks needs deploying)")

        async def handle(uow: UnitOfWork, envelope: Envelope, event: Any) -> None:
            await policy.refresh(uow.session, self.tables, force=isinstance(event, DayClosed))
            try:
                await inner(uow, envelope, event)
            except PolicyError as exc:
                raise behind(exc) from exc

        async def handle_batch(uow: UnitOfWork, events: Sequence[tuple[Envelope, Any]]) -> None:
            assert batch is not None
            await policy.refresh(uow.session, self.tables, force=any(isinstance(e, DayClosed) for _, e in events))
            try:
                await batch(uow, events)
            except PolicyError as exc:
                raise behind(exc) from exc

        return replace(subscription, handler=handle, batch=None if batch is None else handle_batch)

    def kafka_consumer(self, spec: ConsumerSpec, listener: ConsumerRebalanceListener | None = None) -> AIOKafkaConsumer:
        """The Kafka consumer of ``spec``'s group, timed as the settings say (not started)."""
        return make_consumer(self.settings.kafka(), namespace() + spec.name, [t.qualified() for t in spec.topics], listener,
                             session_timeout_ms=self.settings.kafka_session_timeout_ms,
                             fetch_max_wait_ms=self.settings.kafka_fetch_max_wait_ms)

    async def _consume(self, spec: ConsumerSpec) -> None:
        await self._ensure_topics()
        events = self.event_consumer(spec, dead_letters=await self._dead_letter_producer())
        consumer = self.kafka_consumer(spec, events.rebalance_listener())
        events.bind(consumer)
        await consumer.start()
        self.live[spec.name] = events
        try:
            await events.run(self._stop)
        finally:
            self.live.pop(spec.name, None)
            await consumer.stop()


async def run_worker_process(runtime: ServiceRuntime) -> None:
    """Run only the relay and consumers (no HTTP), until cancelled."""
    runtime.start_workers()
    try:
        await asyncio.Event().wait()
    finally:
        await runtime.stop()
