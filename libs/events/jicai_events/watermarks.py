"""Day-close watermarks: a business day is decided only once its facts are in.

``DayClosed`` travels straight to the clock topic; facts travel through each
producing service's outbox to its own topic. Acting on whichever arrives first
would let the close of a deadline day overtake a payment recorded on time.
So the close is a two-step protocol (the stream-processing watermark):

1. Every service that publishes facts consumes the clock topic in its own
   consumer group (``<service>.day-close``) and, on ``DayClosed(X)``, writes a
   ``DayCloseReached(X)`` marker to its outbox for *every partition* of its
   topic. A fact the service acknowledged before the close committed before
   the marker's transaction began, so its outbox id is lower, and the relay
   (one leader, id order, idempotent producer) puts it before the marker on
   its partition.
2. A consumer that decides by business day (it subscribes to ``DayClosed``)
   records the close as requested, keeps the highest marker it has read per
   partition of every topic it reads, and decides day X only once every one
   of those partitions has a marker ≥ X. It has then applied every fact
   acknowledged before X closed, from every producer and partition.

A producer that is down holds the close back, visibly: ``GET /clock``, the
``jicai_day_close_*`` metrics and the ``JicaiDayCloseHeldBack`` alert. Facts
recorded after the close arrive after the marker and keep their meaning as
late facts. Markers are not facts: they go to no event store and no replay.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, null, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.bulk import publish_many
from jicai_events.catalog.clock import DAY_CLOSE_MARKERS, DayClosed, DayCloseReached
from jicai_events.envelope import Envelope
from jicai_events.tables import EventTables
from jicai_events.unit_of_work import UnitOfWork

_MARKER_NAMESPACE = uuid.UUID("0b9b8f1e-5a7c-4f3e-9d2a-6c1e4b7a9f30")
MARKER_TYPES = frozenset(m.type_name() for m in DAY_CLOSE_MARKERS.values())


def marker_consumer_name(service: str) -> str:
    """The consumer group that turns ``DayClosed`` into this service's markers."""
    return f"{service}.day-close"


def is_marker(type_name: str) -> bool:
    return type_name in MARKER_TYPES


async def publish_markers(
    uow: UnitOfWork, closes: Sequence[tuple[Envelope, DayClosed]], *, service: str, consumer: str
) -> None:
    """Step 1: each ``DayClosed(X)`` → ``DayCloseReached(X)`` on every partition of ``service``'s topic, in the order given.

    A range of days closed together is marked in one outbox write: a year closed at once costs one
    transaction, not one per day (the markers' order on each partition is the days' order)."""
    marker_type = DAY_CLOSE_MARKERS[service]
    markers = [(marker_type(business_date=event.business_date, day_closed_event_id=envelope.id),
                str(uuid.uuid5(_MARKER_NAMESPACE, f"{service}:{envelope.id}"))) for envelope, event in closes]
    await publish_many(uow, markers, [envelope for envelope, _ in closes], all_partitions=True)
    await record_day_closes(uow.session, uow.tables, consumer, [(envelope, event.business_date) for envelope, event in closes], decided=True)


async def record_day_closes(
    session: AsyncSession, tables: EventTables, consumer: str, closes: Sequence[tuple[Envelope, date]], *, decided: bool = False
) -> None:
    """Remember requested closes, in one statement (once per day; a repeated ``DayClosed`` changes nothing)."""
    if not closes:
        return
    t = tables.day_closes
    decided_at = datetime.now(UTC) if decided else None
    rows = [{"consumer": consumer, "business_date": day, "event_id": envelope.id, "envelope": envelope.to_bytes(), "decided_at": decided_at}
            for envelope, day in closes]
    await session.execute(pg_insert(t).values(rows).on_conflict_do_nothing(index_elements=[t.c.consumer, t.c.business_date]))


async def raise_watermarks(session: AsyncSession, tables: EventTables, consumer: str, marks: Mapping[tuple[str, int], date]) -> None:
    """Step 2: the highest marker read per (topic, partition), in one statement; watermarks only move forward."""
    if not marks:
        return
    t = tables.clock_watermarks
    rows = [{"consumer": consumer, "topic": topic, "partition": partition, "closed_through": day}
            for (topic, partition), day in sorted(marks.items())]  # in key order: two writers never wait crosswise
    stmt = pg_insert(t).values(rows)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[t.c.consumer, t.c.topic, t.c.partition],
            set_={"closed_through": func.greatest(t.c.closed_through, stmt.excluded.closed_through), "updated_at": func.now()},
        )
    )


def reached_through(marks: Sequence[PartitionMark], expected: set[tuple[str, int]]) -> date | None:
    """The day every expected partition has reached, or None while one has no marker yet."""
    if not expected:
        return date.max  # reads nothing but the clock: nothing to wait for
    reached = {(m.topic, m.partition): m.closed_through for m in marks}
    if not expected <= reached.keys():
        return None
    return min(reached[tp] for tp in expected)


async def decidable_day_closes(session: AsyncSession, tables: EventTables, consumer: str, through: date) -> list[Envelope]:
    """Requested, undecided closes up to ``through``, oldest first."""
    t = tables.day_closes
    rows = (
        await session.execute(
            select(t.c.envelope)
            .where(t.c.consumer == consumer, t.c.decided_at.is_(None), t.c.business_date <= through)
            .order_by(t.c.business_date)
        )
    ).scalars()
    return [Envelope.from_bytes(raw) for raw in rows]


async def mark_decided(session: AsyncSession, tables: EventTables, consumer: str, days: Sequence[date]) -> None:
    t = tables.day_closes
    await session.execute(
        update(t).where(t.c.consumer == consumer, t.c.business_date.in_(days), t.c.decided_at.is_(None)).values(decided_at=func.now())
    )


@dataclass(frozen=True)
class PartitionMark:
    topic: str
    partition: int
    closed_through: date


@dataclass(frozen=True)
class ClockPosition:
    """What one consumer knows of business time (``GET /clock``)."""

    consumer: str
    last_decided: date | None
    pending: list[date]
    oldest_pending_since: datetime | None
    watermarks: list[PartitionMark]


async def clock_positions(session: AsyncSession, tables: EventTables, consumer: str | None = None) -> list[ClockPosition]:
    """Every consumer's (or one's) last decided close, pending closes and watermarks: two small queries."""
    d, w = tables.day_closes, tables.clock_watermarks
    mine_d = [d.c.consumer == consumer] if consumer else []
    mine_w = [w.c.consumer == consumer] if consumer else []
    # The pending closes (requested_at set) and each consumer's last decided day (requested_at NULL) in one statement.
    closes = (
        await session.execute(
            union_all(
                select(d.c.consumer, d.c.business_date, d.c.requested_at).where(d.c.decided_at.is_(None), *mine_d),
                select(d.c.consumer, func.max(d.c.business_date), null()).where(d.c.decided_at.is_not(None), *mine_d).group_by(d.c.consumer),
            ).order_by("business_date")
        )
    ).all()
    last = {r.consumer: r.business_date for r in closes if r.requested_at is None}
    pending = [r for r in closes if r.requested_at is not None]
    marks = (
        await session.execute(select(w.c.consumer, w.c.topic, w.c.partition, w.c.closed_through).where(*mine_w).order_by(w.c.topic, w.c.partition))
    ).all()
    out = []
    for name in sorted(last.keys() | {r.consumer for r in pending} | {r.consumer for r in marks}):
        waiting = [r for r in pending if r.consumer == name]
        out.append(
            ClockPosition(
                consumer=name,
                last_decided=last.get(name),
                pending=[r.business_date for r in waiting],
                oldest_pending_since=min((r.requested_at for r in waiting), default=None),
                watermarks=[PartitionMark(r.topic, r.partition, r.closed_through) for r in marks if r.consumer == name],
            )
        )
    return out


__all__ = [
    "ClockPosition",
    "DayCloseReached",
    "PartitionMark",
    "clock_positions",
    "decidable_day_closes",
    "is_marker",
    "mark_decided",
    "marker_consumer_name",
    "publish_markers",
    "raise_watermarks",
    "reached_through",
    "record_day_closes",
]
