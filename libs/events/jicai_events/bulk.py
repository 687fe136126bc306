"""Set-based outbox writes: many integration events in one COPY (see ``pgcopy``)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from jicai_events.base import IntegrationEvent
from jicai_events.envelope import Envelope
from jicai_events.pgcopy import copy_rows
from jicai_events.unit_of_work import UnitOfWork, outbox_row


async def publish_many(
    uow: UnitOfWork, events: Sequence[tuple[IntegrationEvent, str]], causes: Sequence[Envelope | None] | None = None
) -> list[Envelope]:
    """Write many integration events (each with the id of its stored event) to the outbox at once.

    The set-based twin of ``UnitOfWork.publish``: the same envelopes (this
    unit's correlation and causation, or with ``causes`` each event's own:
    the consumed event it answers), in the given order, which is the order
    the relay publishes them in.
    """
    now = datetime.now(UTC)
    envelopes = [
        uow.envelope(event, event_id, now, cause) for (event, event_id), cause in zip(events, causes or [None] * len(events), strict=True)
    ]
    await copy_rows(uow.session, uow.tables.outbox, [
        outbox_row(event, envelope) for envelope, (event, _) in zip(envelopes, events, strict=True)
    ])
    uow.published.extend(envelopes)
    return envelopes
