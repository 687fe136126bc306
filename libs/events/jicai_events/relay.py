"""Outbox relay: publishes committed outbox rows to Kafka, at least once, in order.

Only one relay per service works at a time (a PostgreSQL advisory lock), so
rows leave in id order and each key's events stay ordered. A relay killed
after sending but before marking rows resends them; consumers dedupe by
event id, so the effect is exactly once.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from datetime import timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from psycopg import AsyncConnection
from sqlalchemy import BigInteger, any_, cast, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from jicai_events.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG
from jicai_events.tables import OUTBOX_CHANNEL, EventTables

log = logging.getLogger(__name__)
_HEADERS = [("content-type", b"application/cloudevents+json")]


class OutboxRelay:
    def __init__(
        self,
        service: str,
        engine: AsyncEngine,
        tables: EventTables,
        producer: AIOKafkaProducer,
        *,
        batch_size: int = 500,
        safety_poll_s: float = 10.0,
        keep_published: timedelta = timedelta(days=7),
    ) -> None:
        self.service = service
        self._engine = engine
        self._outbox = tables.outbox
        self._producer = producer
        self._batch_size = batch_size
        self._safety_poll = safety_poll_s
        self._keep = keep_published
        self._lock_key = f"jicai-outbox-relay:{service}"

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set; waits for the leader lock if another relay holds it.

        A commit that wrote outbox rows, in any process, wakes the relay at once: the outbox's trigger notifies
        ``OUTBOX_CHANNEL`` and the relay listens on the connection holding its lock. It polls otherwise only every
        ``safety_poll_s`` (a notification is never expected to go missing; the poll bounds the harm if one did), where it
        polled up to twice a second: the largest part of an idle service's queries and an eighth of its CPU. The
        listening connection failing (the database restarted, the lock with it) ends the relay, which is restarted."""
        async with self._engine.connect() as lock_conn:
            while not stop.is_set():
                got = (await lock_conn.execute(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": self._lock_key})).scalar()
                await lock_conn.commit()
                if got:
                    break
                await _wait(stop, 1.0)
            await lock_conn.execute(text(f"LISTEN {OUTBOX_CHANNEL}"))
            await lock_conn.commit()  # listening from here: rows committed before are found by the first poll
            woken = asyncio.Event()
            listening = (await lock_conn.get_raw_connection()).driver_connection
            assert isinstance(listening, AsyncConnection), "the psycopg driver (postgresql+psycopg)"
            listener = asyncio.ensure_future(_listen(listening, woken))
            listener.add_done_callback(lambda _: woken.set())  # its failure wakes the loop, which raises it
            stopping = asyncio.ensure_future(stop.wait())  # a stop wakes the relay as a commit does
            stopping.add_done_callback(lambda _: woken.set())
            try:
                rounds = 0
                while not stop.is_set():
                    if listener.done():
                        listener.result()
                        raise RuntimeError("the relay's listening connection stopped listening")
                    woken.clear()
                    sent = await self.publish_batch()
                    rounds += 1
                    if rounds % 1000 == 0:
                        await self._prune()
                    if sent < self._batch_size:  # a full batch: more may wait already
                        await _wait(woken, self._safety_poll)
            finally:
                stopping.cancel()
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):  # its error, if any, was raised above
                    await listener
                await lock_conn.execute(text(f"UNLISTEN {OUTBOX_CHANNEL}"))
                await lock_conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": self._lock_key})
                await lock_conn.commit()

    async def publish_batch(self) -> int:
        """Send one batch of unpublished rows, all at once, and mark them once Kafka has acknowledged every one;
        return how many were sent.

        Two statements per batch, each committing on its own (the leader lock, not a transaction, keeps a second relay
        away): a poll finding nothing costs one round trip, where BEGIN, a second ``count`` and COMMIT made it four.
        A batch interrupted midway (a send refused, the process killed) marks nothing and is sent again whole.
        """
        outbox = self._outbox
        async with self._engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            rows = (
                await conn.execute(
                    select(outbox.c.id, outbox.c.topic, outbox.c.message_key, outbox.c.payload, outbox.c.all_partitions)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.id)
                    .limit(self._batch_size)
                )
            ).all()
            # A batch shorter than the limit is the whole backlog; only a full one asks how many more wait.
            backlog = len(rows) if len(rows) < self._batch_size else (
                await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
            ).scalar_one()
            OUTBOX_BACKLOG.labels(self.service).set(backlog)
            if not rows:
                return 0
            futures = []
            for r in rows:
                # A watermark follows, on each partition, every row sent before it (one producer, in id order).
                partitions = sorted(await self._producer.partitions_for(r.topic)) if r.all_partitions else [None]
                for partition in partitions:
                    # Enqueued in order (the producer batches records per partition); acknowledged together below.
                    futures.append(
                        await self._producer.send(
                            r.topic, value=r.payload, key=r.message_key.encode(), partition=partition, headers=_HEADERS
                        )
                    )
            await asyncio.gather(*futures)
            await conn.execute(
                update(outbox).where(outbox.c.id == any_(cast([r.id for r in rows], ARRAY(BigInteger)))).values(published_at=func.now())
            )
        for (topic, event_type), n in Counter((r.topic, _type_of(r.payload)) for r in rows).items():
            EVENTS_PUBLISHED.labels(self.service, topic, event_type).inc(n)  # once per kind, not per row
        OUTBOX_BACKLOG.labels(self.service).set(max(0, backlog - len(rows)))
        return len(rows)

    async def _prune(self) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(self._outbox).where(self._outbox.c.published_at < func.now() - self._keep)
            )


def _type_of(payload: bytes) -> str:
    # Cheap label extraction; the payload was validated when it was written.
    marker = b'"type":"'
    start = payload.find(marker)
    if start < 0:
        return "unknown"
    start += len(marker)
    return payload[start : payload.find(b'"', start)].decode(errors="replace")


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait ``seconds`` at most, less if ``event`` is set; True if it was. No task per wait."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


async def _listen(connection: AsyncConnection[Any], woken: asyncio.Event) -> None:
    """Set ``woken`` for each notification ``connection`` receives (it has run ``LISTEN``), until cancelled."""
    async for _ in connection.notifies():
        woken.set()
