"""Idempotent, transactional event consumer with a dead-letter topic.

For each message: open a unit of work, claim the event id in
``processed_events`` (a redelivered event finds it taken and changes
nothing), run the handler, commit; only then commit the Kafka offset. An
event that cannot be handled goes to the dead-letter topic with the reason,
is recorded as dead-lettered, and shows in metrics: never silently skipped.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from jicai_events.base import IntegrationEvent, UnknownEventType, event_registry
from jicai_events.envelope import Envelope
from jicai_events.metrics import CONSUMER_LAG, DEAD_LETTERS, EVENTS_CONSUMED
from jicai_events.store import ConcurrencyConflict
from jicai_events.tables import EventTables
from jicai_events.topics import DEAD_LETTERS as DEAD_LETTER_TOPIC
from jicai_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]


class Unprocessable(Exception):
    """A handler's verdict that this event can never be applied (goes to dead letters)."""


@dataclass(frozen=True)
class Subscription:
    event: type[IntegrationEvent]
    handler: Handler


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

    async def run(self, stop: asyncio.Event) -> None:
        assert self._consumer is not None and self._dlq is not None, "run() needs Kafka clients"
        while not stop.is_set():
            batches = await self._consumer.getmany(timeout_ms=200, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    await self._process(record)
                # Offsets only after every record of the batch is committed in the database.
                await self._consumer.commit({tp: records[-1].offset + 1})
            await self._report_lag()

    async def _process(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            envelope = Envelope.from_bytes(record.value or b"")
        except (ValidationError, ValueError) as exc:
            await self._dead_letter(record, None, f"not a CloudEvents envelope: {exc}")
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
        try:
            outcome = await self._handle_with_retries(envelope, event, handler)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the dead-letter topic
            log.exception("consumer %s could not handle %s %s", self.name, envelope.type, envelope.id)
            await self._dead_letter(record, envelope, f"{type(exc).__name__}: {exc}")
            return
        EVENTS_CONSUMED.labels(self.service, self.name, envelope.type, outcome).inc()

    async def deliver(self, envelope: Envelope) -> str:
        """Handle one envelope exactly as a Kafka delivery would, minus Kafka (for tests and replays)."""
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return "ignored"
        return await self._handle_with_retries(envelope, envelope.event(), handler)

    async def _handle_with_retries(self, envelope: Envelope, event: IntegrationEvent, handler: Handler) -> str:
        # The database being briefly away is retried until it is back; a
        # concurrency conflict a few times; anything else is a poison message.
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type((OperationalError, ConcurrencyConflict)),
            wait=wait_exponential(multiplier=0.1, max=5),
            stop=stop_after_attempt(1000),
            reraise=True,
        ):
            with attempt:
                return await self._handle_once(envelope, event, handler)
        raise AssertionError("unreachable")

    async def _handle_once(self, envelope: Envelope, event: IntegrationEvent, handler: Handler) -> str:
        async with UnitOfWork(self._factory, self._tables) as uow:
            if await self._already_processed(uow, envelope.id):
                return "duplicate"
            await uow.session.execute(
                insert(self._tables.processed_events).values(
                    consumer=self.name, event_id=envelope.id, event_type=envelope.type, outcome="handled"
                )
            )
            uow.caused_by(envelope)
            await handler(uow, envelope, event)
        return "handled"

    async def _already_processed(self, uow: UnitOfWork, event_id: str) -> bool:
        t = self._tables.processed_events
        row = await uow.session.execute(select(t.c.event_id).where(t.c.consumer == self.name, t.c.event_id == event_id))
        return row.first() is not None

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
        await self._record_dead_letter(event_id, event_type, reason)
        DEAD_LETTERS.labels(self.service, self.name, event_type).inc()
        EVENTS_CONSUMED.labels(self.service, self.name, event_type, "dead_lettered").inc()

    async def _record_dead_letter(self, event_id: str, event_type: str, reason: str) -> None:
        t = self._tables.processed_events
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(DBAPIError), wait=wait_exponential(multiplier=0.1, max=5), reraise=True,
            stop=stop_after_attempt(1000),
        ):
            with attempt:
                async with self._factory.begin() as session:
                    existing = await session.execute(select(t.c.event_id).where(t.c.consumer == self.name, t.c.event_id == event_id))
                    if existing.first() is None:
                        await session.execute(
                            insert(t).values(
                                consumer=self.name, event_id=event_id, event_type=event_type, outcome="dead_lettered", reason=reason[:4000]
                            )
                        )

    async def _report_lag(self) -> None:
        assert self._consumer is not None
        for tp in self._consumer.assignment():
            highwater = self._consumer.highwater(tp)
            if highwater is None:
                continue
            position = await self._consumer.position(tp)
            CONSUMER_LAG.labels(self.service, self.name, tp.topic, str(tp.partition)).set(max(0, highwater - position))


__all__ = ["EventConsumer", "Handler", "Subscription", "TopicPartition", "Unprocessable", "event_registry"]
