"""Recording domain events: the one way every service changes state.

``StreamWriter.append`` appends to the event store, updates the read models
and writes the translated integration events to the outbox, all in the
caller's unit of work, so they commit or vanish together. The integration
event reuses the stored event's id, linking the wire to the store.
``StreamWriter.append_many`` does the same for many streams at once, with
one COPY per table (a HIS push of a thousand lines); ``write_many`` writes
events a set-based consumer handler decided in memory (``Decided``: stream,
version and id fixed, each continuing the consumed event that caused it).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Generic

from psycopg.errors import UniqueViolation
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.base import IntegrationEvent
from jicai_events.bulk import publish_many
from jicai_events.domain_events import D, EventCodec
from jicai_events.envelope import Envelope
from jicai_events.pgcopy import JsonText, pipelined
from jicai_events.store import StoredEvent, StreamAppend, conflict_of
from jicai_events.unit_of_work import UnitOfWork

Projector = Callable[[AsyncSession, D], Awaitable[None]]
BulkProjector = Callable[[AsyncSession, Sequence[D]], Awaitable[None]]
Translator = Callable[[D], IntegrationEvent | None]


@dataclass(frozen=True)
class Decided(Generic[D]):
    """An event decided in memory: its stream, its version there, its id, and the consumed event it answers."""

    stream_id: str
    stream_type: str
    version: int
    event: D
    event_id: str
    cause: Envelope | None = None


class Replay(Generic[D]):
    """How a rebuild projects every stored event: ``project`` hears each batch in the order stored (each event with
    its id), ``finish`` once after the last. By default as the events were recorded (``StreamWriter.project_many``);
    a service whose read models are folded from whole streams keeps the folds across batches instead of reading
    each stream back, and writes the final rows once."""

    def __init__(self, writer: StreamWriter[D]) -> None:
        self.writer = writer

    async def project(self, session: AsyncSession, events: Sequence[tuple[D, str]]) -> None:
        await self.writer.project_many(session, [event for event, _ in events])

    async def finish(self, session: AsyncSession) -> None:
        """Write what ``project`` kept for the end (nothing by default)."""


class StreamWriter(Generic[D]):
    """``bulk`` maps an event kind to a projector of many events at once (set-based read-model writes); kinds
    mapped to one projector are projected together when they follow each other. ``replay`` makes the rebuild's
    projection (``Replay``)."""

    def __init__(
        self, codec: EventCodec[D], project: Projector[D], translate: Translator[D], bulk: dict[type[D], BulkProjector[D]] | None = None,
        replay: Callable[[StreamWriter[D]], Replay[D]] = Replay,
    ) -> None:
        self.codec = codec
        self._project = project
        self._translate = translate
        self._bulk = bulk or {}
        self._replay = replay

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

    async def append_many(self, uow: UnitOfWork, stream_type: str, appends: Sequence[tuple[str, int, Sequence[D]]]) -> list[list[str]]:
        """Append to many streams of ``stream_type`` (stream id, expected version, events) with one COPY per table
        (a few events: the three INSERTs pipelined, one round trip); the ids of each stream's new events.

        The same rows as ``append`` stream by stream, each event dumped once as JSON text (by pydantic, from
        the model) and its integration event's envelope written straight to bytes; a lost race raises
        ConcurrencyConflict with the transaction unusable (retry the unit of work).
        """
        metadata = {"correlation_id": uow.correlation_id, "causation_id": uow.causation_id}
        store_appends = [
            StreamAppend(stream_id, stream_type, version, [(name, JsonText(text)) for name, text in map(self.codec.encode_json, events)])
            for stream_id, version, events in appends
        ]
        try:
            async with pipelined(uow.session, sum(len(a.events) for a in store_appends)):
                ids = await uow.events.append_many(store_appends, metadata)
                pairs = [
                    (event, event_id) for (_, _, events), event_ids in zip(appends, ids, strict=True)
                    for event, event_id in zip(events, event_ids, strict=True)
                ]
                await self.project_many(uow.session, [event for event, _ in pairs])
                await publish_many(uow, [(integration, event_id) for event, event_id in pairs if (integration := self._translate(event)) is not None])
        except UniqueViolation as exc:  # raised where the pipeline answered: by a later statement, or as it ended
            conflict = conflict_of(exc, store_appends)
            if conflict is None:
                raise
            raise conflict from exc
        return ids

    async def write_many(self, uow: UnitOfWork, decided: Sequence[Decided[D]]) -> None:
        """Write events decided in memory, in the order decided: one COPY into the event store, the read
        models in that order (a run of one kind with a bulk projector at once), one COPY into the outbox.

        The same rows as ``append`` event by event, with each event's correlation taken from its cause;
        a lost race raises ConcurrencyConflict with the transaction unusable (retry the unit of work)."""
        if not decided:
            return
        await uow.events.append_many([
            StreamAppend(d.stream_id, d.stream_type, d.version - 1, [self.codec.encode(d.event)], [d.event_id], uow.metadata(d.cause))
            for d in decided
        ])
        await self.project_many(uow.session, [d.event for d in decided])
        outgoing = [(integration, d) for d in decided if (integration := self._translate(d.event)) is not None]
        await publish_many(uow, [(integration, d.event_id) for integration, d in outgoing], [d.cause for _, d in outgoing])

    async def project_many(self, session: AsyncSession, events: Sequence[D]) -> None:
        """Project ``events`` in order; a run of kinds sharing one bulk projector goes in one call (kinds mapped
        to the same projector commute: it may write them kind by kind, each kind in order)."""
        for bulk, run in groupby(events, key=lambda event: self._bulk.get(type(event))):
            if bulk is not None:
                await bulk(session, list(run))
            else:
                for event in run:
                    await self._project(session, event)

    async def rebuild(self, uow: UnitOfWork, read_models: Sequence[Table], progress: Callable[[int], None] | None = None) -> int:
        """Empty the read models and replay every stored event into them; ``progress`` hears of each batch replayed (its size).

        One TRUNCATE empties them all (a DELETE visits every row and leaves each dead in the table the replay fills
        again); it holds the tables until commit, so the service is stopped first."""
        names = ", ".join(f'"{table.name}"' for table in read_models)
        await uow.session.execute(text(f"TRUNCATE {names}"))
        replay, count = self._replay(self), 0
        async for stored in uow.events.read_all_json():
            await replay.project(uow.session, [(self.codec.decode_json(event_type, data), event_id) for event_type, data, event_id in stored])
            count += len(stored)
            if progress:
                progress(len(stored))
        await replay.finish(uow.session)
        return count
