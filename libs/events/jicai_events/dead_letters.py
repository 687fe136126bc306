"""Dead letters: events a consumer refused, kept in the service's own database until an operator acts.

A consumer dead-letters what can never be applied as sent (not an envelope,
an invalid payload, a handler's ``Unprocessable`` verdict). The row keeps the
raw message, where it was read and why; ``GET /dead-letters`` lists them and a
redrive (``POST /dead-letters/{id}/redrive`` or ``jicai-dead-letters redrive``)
hands the stored message to the same consumer's handler once the cause is fixed
(``EventConsumer.redrive``). Status: ``dead`` (waiting), ``redriven`` (handled
on a redrive), ``resolved`` (an operator decided it is not to be applied).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.tables import EventTables

MAX_REASON = 4000


class Status(StrEnum):
    DEAD = "dead"
    REDRIVEN = "redriven"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Origin:
    """Where a message was read: its topic, partition and offset (null fields: delivered without Kafka)."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    event_id: str
    event_type: str
    topic: str | None
    partition: int | None
    offset: int | None
    message: bytes
    reason: str
    first_seen: datetime
    last_seen: datetime
    count: int
    status: Status


async def record(
    session: AsyncSession, tables: EventTables, *, consumer: str, event_id: str, event_type: str, origin: Origin,
    message: bytes, reason: str,
) -> None:
    """Keep a refused message (seen again: counted, with the latest reason)."""
    t = tables.dead_letters
    stmt = pg_insert(t).values(
        consumer=consumer, event_id=event_id, event_type=event_type, topic=origin.topic, partition=origin.partition,
        offset=origin.offset, message=message, reason=reason[:MAX_REASON],
    )
    await session.execute(
        stmt.on_conflict_do_update(
            constraint="uq_dead_letters_consumer_event",
            set_={"reason": stmt.excluded.reason, "last_seen": func.now(), "count": t.c.count + 1, "status": Status.DEAD.value},
        )
    )


async def one(session: AsyncSession, tables: EventTables, dead_letter_id: int, *, for_update: bool = False) -> DeadLetter | None:
    t = tables.dead_letters
    stmt = select(t).where(t.c.id == dead_letter_id)
    row = (await session.execute(stmt.with_for_update() if for_update else stmt)).first()
    return _dead_letter(row) if row else None


async def listing(
    session: AsyncSession, tables: EventTables, *, status: Status | None = None, consumer: str | None = None,
    limit: int = 50, offset: int = 0,
) -> tuple[list[DeadLetter], int]:
    """One page, oldest first, and how many match in all."""
    t = tables.dead_letters
    where = [c for c in (t.c.status == status.value if status else None, t.c.consumer == consumer if consumer else None) if c is not None]
    total = (await session.execute(select(func.count()).select_from(t).where(*where))).scalar_one()
    rows = (await session.execute(select(t).where(*where).order_by(t.c.id).limit(limit).offset(offset))).all()
    return [_dead_letter(r) for r in rows], total


async def refused_again(session: AsyncSession, tables: EventTables, dead_letter_id: int, reason: str) -> None:
    t = tables.dead_letters
    await session.execute(
        update(t).where(t.c.id == dead_letter_id).values(reason=reason[:MAX_REASON], count=t.c.count + 1, last_seen=func.now())
    )


async def settle(session: AsyncSession, tables: EventTables, dead_letter_id: int, status: Status) -> None:
    t = tables.dead_letters
    await session.execute(update(t).where(t.c.id == dead_letter_id).values(status=status.value, last_seen=func.now()))


def _dead_letter(row: object) -> DeadLetter:
    m = row._mapping  # type: ignore[attr-defined]
    return DeadLetter(**{**m, "message": bytes(m["message"]), "status": Status(m["status"])})


__all__ = ["DeadLetter", "Origin", "Status", "listing", "one", "record", "refused_again", "settle"]
