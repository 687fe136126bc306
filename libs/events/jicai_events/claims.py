"""The consumer's ledger in ``processed_events``: claims, dead letters, pruning.

Each event is claimed (``INSERT … ON CONFLICT DO NOTHING``: a redelivered
event, even one another instance is handling right now, finds it taken and
changes nothing) in the unit of work that handles it. An event refused for good
is claimed as dead-lettered together with its row in ``dead_letters``
(``jicai_events.dead_letters``) and sent to the dead-letter topic; a redrive
replaces that claim. Claims older than the retention are pruned (never a
dead-lettered one): an id is needed only while Kafka can still deliver its
message again.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from jicai_events import dead_letters
from jicai_events.dead_letters import Origin
from jicai_events.envelope import Envelope
from jicai_events.metrics import DEAD_LETTERS
from jicai_events.subscriptions import AlreadySettled
from jicai_events.tables import EventTables
from jicai_events.topics import DEAD_LETTERS as DEAD_LETTER_TOPIC
from jicai_events.unnest import insert_rows

log = logging.getLogger(__name__)


class Claims:
    """One consumer's claims on the service's database (set up by ``EventHandling``)."""

    service: str
    name: str
    _dlq: AIOKafkaProducer | None
    _factory: async_sessionmaker[AsyncSession]
    _tables: EventTables
    _retention: timedelta

    async def _write(self, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(DBAPIError), wait=wait_exponential(multiplier=0.1, max=5), reraise=True,
            stop=stop_after_attempt(1000),
        ):
            with attempt:
                async with self._factory.begin() as session:
                    await work(session)


    async def _claim_many(self, session: AsyncSession, ids: Sequence[tuple[str, str]]) -> set[str]:
        """Take many (event id, type) at once (in id order: two claimers never wait on each other crosswise);
        the ids taken now (the others were taken already)."""
        t = self._tables.processed_events
        rows = [{"consumer": self.name, "event_id": event_id, "event_type": event_type, "outcome": "handled"} for event_id, event_type in ids]
        claimed = await insert_rows(session, t, rows, on_conflict=["consumer", "event_id"], returning=["event_id"])
        return set(claimed.scalars()) if claimed is not None else set()

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


    async def prune(self, now: datetime | None = None) -> int:
        """Forget claims older than the retention (never a dead-lettered one): how many went."""
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

