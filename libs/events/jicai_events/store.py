"""Append-only event store with optimistic concurrency (domain events and their codec: ``domain_events``).

Aggregates are rebuilt by folding their stream; read models are updated in
the same transaction and can be rebuilt by replaying ``read_all``.
"""
from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import Text, cast, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.pgcopy import JsonText, copy_rows
from jicai_events.tables import EventTables


@dataclass(frozen=True)
class StoredEvent:
    stream_id: str
    version: int
    event_id: str
    event_type: str
    data: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None
    global_position: int | None = None


class ConcurrencyConflict(Exception):
    """Another transaction appended to the stream first (or the stream already exists)."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id!r} is no longer at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


class EventStore:
    """Reads and appends streams inside the caller's transaction."""

    def __init__(self, session: AsyncSession, tables: EventTables) -> None:
        self._session = session
        self.tables = tables
        self._t = tables.event_store

    async def load(self, stream_id: str) -> list[StoredEvent]:
        rows = await self._session.execute(
            select(self._t).where(self._t.c.stream_id == stream_id).order_by(self._t.c.version)
        )
        return [_row_to_event(r) for r in rows.mappings()]

    async def load_many(self, stream_ids: Sequence[str]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
        """Many streams in one query: each one's ``(event_id, event_type, data)`` in version order (a stream with no
        events: an empty list). What a fold needs, without the columns ``load`` gives."""
        loaded: dict[str, list[tuple[str, str, dict[str, Any]]]] = {stream_id: [] for stream_id in stream_ids}
        if not loaded:
            return loaded
        rows = await self._session.execute(
            select(self._t.c.stream_id, self._t.c.event_id, self._t.c.event_type, self._t.c.data)
            .where(self._t.c.stream_id.in_(list(loaded))).order_by(self._t.c.stream_id, self._t.c.version)
        )
        for stream_id, event_id, event_type, data in rows.all():
            loaded[stream_id].append((event_id, event_type, data))
        return loaded

    async def append(
        self,
        stream_id: str,
        stream_type: str,
        expected_version: int,
        events: Sequence[tuple[str, dict[str, Any]]],
        metadata: dict[str, Any] | None = None,
    ) -> list[StoredEvent]:
        """Append after ``expected_version`` (0 for a new stream) or raise ConcurrencyConflict.

        No savepoint (two round trips per append): no caller goes on in a transaction that lost the race, every one
        retries its whole unit of work (``jicai_kit.commands.execute``, the consumer), as after ``append_many``."""
        stored = [
            StoredEvent(stream_id, expected_version + i + 1, str(uuid.uuid4()), name, data, metadata or {})
            for i, (name, data) in enumerate(events)
        ]
        if not stored:
            return []
        try:
            await self._session.execute(
                insert(self._t),
                [
                    {
                        "stream_id": e.stream_id,
                        "stream_type": stream_type,
                        "version": e.version,
                        "event_id": e.event_id,
                        "event_type": e.event_type,
                        "data": e.data,
                        "metadata": e.metadata,
                    }
                    for e in stored
                ],
            )
        except IntegrityError as exc:
            if "uq_event_store_stream_version" in str(exc.orig):
                raise ConcurrencyConflict(stream_id, expected_version) from exc
            raise
        return stored

    async def append_many(self, appends: Sequence[StreamAppend], metadata: dict[str, Any] | None = None) -> list[list[str]]:
        """Append to many streams with one COPY; the ids of each append's events, in the order given.

        Rows go in stream order, so two overlapping batches wait on each other
        instead of deadlocking. No savepoint: a lost race (ConcurrencyConflict)
        leaves the transaction unusable and the caller retries the whole unit
        of work, which then finds the winner's events.
        """
        ids = [list(a.event_ids) if a.event_ids else [str(uuid.uuid4()) for _ in a.events] for a in appends]
        rows = sorted(
            (
                {"stream_id": a.stream_id, "stream_type": a.stream_type, "version": a.expected_version + i + 1, "event_id": event_id,
                 "event_type": name, "data": data, "metadata": a.metadata if a.metadata is not None else metadata or {}}
                for a, event_ids in zip(appends, ids, strict=True)
                for i, ((name, data), event_id) in enumerate(zip(a.events, event_ids, strict=True))
            ),
            key=lambda r: (r["stream_id"], r["version"]),
        )
        try:
            await copy_rows(self._session, self._t, rows)
        except UniqueViolation as exc:
            conflict = conflict_of(exc, appends)
            if conflict is None:
                raise
            raise conflict from exc
        return ids

    async def count(self) -> int:
        """How many events are stored (the total of a rebuild's progress)."""
        return int((await self._session.execute(select(func.count()).select_from(self._t))).scalar_one())

    async def read_all(self, batch_size: int = 1000) -> AsyncIterator[StoredEvent]:
        """Every stored event in commit order, to rebuild read models."""
        position = 0
        while True:
            rows = (
                await self._session.execute(
                    select(self._t)
                    .where(self._t.c.global_position > position)
                    .order_by(self._t.c.global_position)
                    .limit(batch_size)
                )
            ).mappings().all()
            if not rows:
                return
            for r in rows:
                yield _row_to_event(r)
            position = rows[-1]["global_position"]

    async def read_all_json(self, batch_size: int = 5000) -> AsyncIterator[list[tuple[str, str, str]]]:
        """Every stored event's type, data as JSON text and id, in commit order, a batch at a time: what a rebuild
        needs (a fold keeps each event's id), without the driver parsing ``data`` into a dict the codec would
        validate again."""
        position = 0
        data = cast(self._t.c.data, Text)
        while True:
            rows = (
                await self._session.execute(
                    select(self._t.c.global_position, self._t.c.event_type, data, self._t.c.event_id)
                    .where(self._t.c.global_position > position)
                    .order_by(self._t.c.global_position)
                    .limit(batch_size)
                )
            ).all()
            if not rows:
                return
            yield [(r[1], r[2], r[3]) for r in rows]
            position = rows[-1][0]


@dataclass(frozen=True)
class StreamAppend:
    """Events to append to one stream after ``expected_version`` (0 for a new stream); ``event_ids`` and
    ``metadata`` when the caller decided them already (else fresh ids, the batch's metadata)."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: Sequence[tuple[str, dict[str, Any] | JsonText]]
    """Each event's name and data: a dict, or its JSON text already dumped (``EventCodec.encode_json``)."""
    event_ids: Sequence[str] | None = None
    """The events' ids when the caller chose them (a decision naming an earlier one of the same batch); else new ones."""
    metadata: dict[str, Any] | None = None


def conflict_of(exc: UniqueViolation, appends: Sequence[StreamAppend]) -> ConcurrencyConflict | None:
    """The ConcurrencyConflict ``append_many`` raises for a unique violation of a stream's (stream, version): a lost race.
    None for any other violation (raised as it is)."""
    if exc.diag.constraint_name == "uq_event_store_stream_version":
        return ConcurrencyConflict(*_conflicting_key(exc.diag.message_detail, appends))
    return None


def _conflicting_key(detail: str | None, appends: Sequence[StreamAppend]) -> tuple[str, int]:
    """The stream PostgreSQL names in ``Key (stream_id, version)=(…, n) already exists``, else the first one."""
    for a in appends:
        if detail and f"=({a.stream_id}, " in detail:
            return a.stream_id, a.expected_version
    return appends[0].stream_id, appends[0].expected_version


def _row_to_event(r: Any) -> StoredEvent:
    return StoredEvent(
        stream_id=r["stream_id"],
        version=r["version"],
        event_id=r["event_id"],
        event_type=r["event_type"],
        data=r["data"],
        metadata=r["metadata"],
        recorded_at=r["recorded_at"],
        global_position=r["global_position"],
    )
