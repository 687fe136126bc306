"""The service runtime: database, outbox relay and consumers, supervised.

One runtime per process. The API process runs the relay and consumers as
background tasks by default (``JICAI_RUN_WORKERS``); ``run_worker_process``
runs them alone. A worker that fails (Kafka away, database restarting) is
restarted with backoff; nothing it had not committed is lost.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from jicai_events import watermarks
from jicai_events.catalog import DayClosed
from jicai_events.consumer import EventConsumer, Subscription
from jicai_events.envelope import Envelope
from jicai_events.kafka import ensure_topics, kafka_reachable, make_consumer, make_producer
from jicai_events.relay import OutboxRelay
from jicai_events.tables import EventTables
from jicai_events.topics import CLOCK, Topic, namespace
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerSpec:
    """A consumer group of this service: which topics, which handlers."""

    name: str
    topics: tuple[Topic, ...]
    subscriptions: tuple[Subscription, ...]


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
    day_closing: ClosingDay | None = None
    """A service that closes a day in chunks: the close in progress, if any (``GET /clock``)."""
    engine: AsyncEngine = field(init=False)
    session_factory: async_sessionmaker[AsyncSession] = field(init=False)
    _stop: asyncio.Event = field(init=False, default_factory=asyncio.Event)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    live: dict[str, EventConsumer] = field(init=False, default_factory=dict)
    """The consumers reading Kafka in this process, by name (to see and resume parked partitions)."""

    def __post_init__(self) -> None:
        self.engine = create_async_engine(self.settings.database_url, pool_pre_ping=True, pool_size=10)
        self.session_factory = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def service(self) -> str:
        return self.settings.service_name

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.tables)

    @property
    def day_close_markers(self) -> ConsumerSpec:
        """Every service turns ``DayClosed`` into watermark markers on its own topic (``jicai_events.watermarks``)."""
        name = watermarks.marker_consumer_name(self.service)

        async def mark(uow: UnitOfWork, envelope: Envelope, event: DayClosed) -> None:
            await watermarks.publish_marker(uow, envelope, event, service=self.service, consumer=name)

        return ConsumerSpec(name=name, topics=(CLOCK,), subscriptions=(Subscription(DayClosed, mark),))

    def start_workers(self) -> None:
        self._stop.clear()
        self._tasks.append(asyncio.create_task(self._supervise("outbox-relay", self._relay)))
        for spec in (*self.consumers, self.day_close_markers):
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
        await self.engine.dispose()

    async def database_ready(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def kafka_ready(self) -> bool:
        return await kafka_reachable(self.settings.kafka_bootstrap_servers)

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
                try:
                    await asyncio.wait_for(self._stop.wait(), timeout=delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, 10.0)

    async def _relay(self) -> None:
        await ensure_topics(self.settings.kafka_bootstrap_servers)
        producer = make_producer(self.settings.kafka_bootstrap_servers, f"{self.service}-relay")
        await producer.start()
        try:
            await OutboxRelay(self.service, self.engine, self.tables, producer).run(self._stop)
        finally:
            await producer.stop()

    def consumer_spec(self, name: str) -> ConsumerSpec | None:
        return next((s for s in (*self.consumers, self.day_close_markers) if s.name == name), None)

    def event_consumer(self, spec: ConsumerSpec, consumer: Any = None, dead_letters: Any = None) -> EventConsumer:
        """The consumer of ``spec``; without Kafka clients it can still ``deliver`` envelopes."""
        return EventConsumer(
            service=self.service,
            name=spec.name,
            consumer=consumer,
            dead_letter_producer=dead_letters,
            session_factory=self.session_factory,
            tables=self.tables,
            subscriptions=list(spec.subscriptions),
            handler_attempts=self.settings.handler_attempts,
            processed_retention=timedelta(days=self.settings.processed_retention_days),
        )

    async def _consume(self, spec: ConsumerSpec) -> None:
        bootstrap = self.settings.kafka_bootstrap_servers
        await ensure_topics(bootstrap)
        dlq = make_producer(bootstrap, f"{spec.name}-dead-letters")
        events = self.event_consumer(spec, dead_letters=dlq)
        consumer = make_consumer(bootstrap, namespace() + spec.name, [t.qualified() for t in spec.topics], events.rebalance_listener())
        events.bind(consumer)
        await dlq.start()
        await consumer.start()
        self.live[spec.name] = events
        try:
            await events.run(self._stop)
        finally:
            self.live.pop(spec.name, None)
            await consumer.stop()
            await dlq.stop()


async def run_worker_process(runtime: ServiceRuntime) -> None:
    """Run only the relay and consumers (no HTTP), until cancelled."""
    runtime.start_workers()
    try:
        await asyncio.Event().wait()
    finally:
        await runtime.stop()
