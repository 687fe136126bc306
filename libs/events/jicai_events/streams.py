"""Recording domain events: the one way every service changes state.

``StreamWriter.append`` appends to the event store, updates the read models
and writes the translated integration events to the outbox, all in the
caller's unit of work, so they commit or vanish together. The integration
event reuses the stored event's id, linking the wire to the store.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.base import IntegrationEvent
from jicai_events.store import D, EventCodec, StoredEvent
from jicai_events.unit_of_work import UnitOfWork

Projector = Callable[[AsyncSession, D], Awaitable[None]]
Translator = Callable[[D], IntegrationEvent | None]


class StreamWriter(Generic[D]):
    def __init__(self, codec: EventCodec[D], project: Projector[D], translate: Translator[D]) -> None:
        self.codec = codec
        self._project = project
        self._translate = translate

    async def load(self, uow: UnitOfWork, stream_id: str) -> tuple[list[D], int]:
        """The stream's domain events and its current version (0 if new)."""
        stored = await uow.events.load(stream_id)
        return [self.codec.decode(s.event_type, s.data) for s in stored], len(stored)

    async def append(
        self, uow: UnitOfWork, stream_id: str, stream_type: str, expected_version: int, events: Sequence[D]
    ) -> list[StoredEvent]:
        metadata = {"correlation_id": uow.correlation_id, "causation_id": uow.causation_id}
        stored = await uow.events.append(
            stream_id, stream_type, expected_version, [self.codec.encode(e) for e in events], metadata
        )
        for event, record in zip(events, stored, strict=True):
            await self._project(uow.session, event)
            integration = self._translate(event)
            if integration is not None:
                await uow.publish(integration, event_id=record.event_id)
        return stored

    async def rebuild(self, uow: UnitOfWork, read_models: Sequence[Table]) -> int:
        """Empty the read models and replay every stored event into them."""
        for table in reversed(read_models):
            await uow.session.execute(delete(table))
        count = 0
        async for stored in uow.events.read_all():
            await self._project(uow.session, self.codec.decode(stored.event_type, stored.data))
            count += 1
        return count
