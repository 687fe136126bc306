"""The one place a service commits: state change, event store and outbox together.

Application functions receive an open ``UnitOfWork``; only the entrypoint
that opened it commits (by leaving the ``async with`` block without error).
"""
from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import NamedTuple

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jicai_events import correlation
from jicai_events.base import IntegrationEvent
from jicai_events.envelope import Envelope
from jicai_events.store import EventStore
from jicai_events.tables import EventTables
from jicai_events.topics import topic_for


class Published(NamedTuple):
    """An event a unit of work wrote to the outbox: its CloudEvents type and id (what a consistency token names)."""

    type: str
    id: str


class UnitOfWork:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], tables: EventTables) -> None:
        self._factory = session_factory
        self._tables = tables
        self.session: AsyncSession
        self.events: EventStore
        self.published: list[Published] = []
        self.correlation_id: str | None = correlation.current()  # the request's or the handled event's
        self.causation_id: str | None = None

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._factory()
        await self.session.begin()
        self.events = EventStore(self.session, self._tables)
        self.published = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None:
                await self.session.commit()  # outbox rows written: the commit wakes the relay (jicai_events.tables)
            else:
                await self.session.rollback()
        finally:
            await self.session.close()

    def envelope(self, event: IntegrationEvent, event_id: str | None, time: datetime, cause: Envelope | None = None) -> Envelope:
        """``event`` in its envelope, continuing the correlation of ``cause`` (a consumed event), else this unit's."""
        correlation_id, causation_id = (cause.correlationid, cause.id) if cause is not None else (self.correlation_id, self.causation_id)
        return Envelope.wrap(event, time=time, event_id=event_id, correlation_id=correlation_id, causation_id=causation_id)

    def metadata(self, cause: Envelope | None = None) -> dict[str, str | None]:
        """The metadata of an event stored in this unit: the correlation of ``cause``, else this unit's."""
        if cause is not None:
            return {"correlation_id": cause.correlationid, "causation_id": cause.id}
        return {"correlation_id": self.correlation_id, "causation_id": self.causation_id}

    @property
    def tables(self) -> EventTables:
        return self._tables

    def sibling(self) -> UnitOfWork:
        """A new unit of work on the same database, continuing this one's correlation: work too large for one
        transaction (a day close in chunks) commits its parts in siblings while this one stays open."""
        other = UnitOfWork(self._factory, self._tables)
        other.correlation_id, other.causation_id = self.correlation_id, self.causation_id
        return other

    def caused_by(self, envelope: Envelope) -> None:
        """Events published in this unit continue the correlation of ``envelope``."""
        self.correlation_id = envelope.correlationid
        self.causation_id = envelope.id

    async def publish(self, event: IntegrationEvent, *, event_id: str | None = None, all_partitions: bool = False) -> Envelope:
        """Write ``event`` to the outbox in this transaction; the relay sends it later
        (to its key's partition, or with ``all_partitions`` to every partition: watermarks)."""
        envelope = self.envelope(event, event_id, datetime.now(UTC))
        await self.session.execute(insert(self._tables.outbox).values(outbox_row(event, envelope, all_partitions=all_partitions)))
        self.published.append(Published(envelope.type, envelope.id))
        return envelope


def outbox_row(event: IntegrationEvent, envelope: Envelope, *, all_partitions: bool = False) -> dict[str, object]:
    """The outbox row of ``envelope``: the one shape ``publish`` and the set-based ``bulk.publish_many`` write."""
    return {
        "event_id": envelope.id,
        "topic": topic_for(event).qualified(),
        "message_key": envelope.partitionkey,
        "payload": envelope.to_bytes(),
        "all_partitions": all_partitions,
    }
