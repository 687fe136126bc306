"""Set-based outbox writes: many integration events in one COPY (see ``pgcopy``)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from jicai_events.base import IntegrationEvent
from jicai_events.envelope import Envelope
from jicai_events.pgcopy import copy_rows
from jicai_events.topics import topic_for
from jicai_events.unit_of_work import Published, UnitOfWork


async def publish_many(
    uow: UnitOfWork, events: Sequence[tuple[IntegrationEvent, str]], causes: Sequence[Envelope | None] | None = None,
    *, all_partitions: bool = False,
) -> list[Published]:
    """Write many integration events (each with the id of its stored event) to the outbox at once.

    The set-based twin of ``UnitOfWork.publish``: the same outbox rows (this
    unit's correlation and causation, or with ``causes`` each event's own:
    the consumed event it answers), in the given order, which is the order
    the relay publishes them in (``all_partitions``: each to every partition of its topic, as watermark markers
    go). The envelopes go straight to their bytes
    (``Envelope.wrapped_bytes``), never built as models.
    """
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    published: list[Published] = []
    for (event, event_id), cause in zip(events, causes or [None] * len(events), strict=True):
        correlation_id, causation_id = (cause.correlationid, cause.id) if cause is not None else (uow.correlation_id, uow.causation_id)
        payload = Envelope.wrapped_bytes(event, time=now, event_id=event_id, correlation_id=correlation_id, causation_id=causation_id)
        rows.append({"event_id": event_id, "topic": topic_for(event).qualified(), "message_key": event.partition_key(), "payload": payload,
                     "all_partitions": all_partitions})
        published.append(Published(event.type_name(), event_id))
    await copy_rows(uow.session, uow.tables.outbox, rows)
    uow.published.extend(published)
    return published
