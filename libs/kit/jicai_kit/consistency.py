"""Read your own writes across services: consistency tokens.

Every response of a request that recorded events carries the header
``Jicai-Consistency-Token``: one token per event, ``<type>/<id>``, comma
separated. Any request to any service may pass them back as ``?after=TOKEN``
(repeatable): the service first waits, bounded, until each of its consumer
groups that handles that event type has handled that event, then answers. So
an integrator who got orders' 201 for an invoice can pay it at settlement
with ``?after=<the invoice's token>`` instead of polling and guessing.

A token this service cannot be waiting for answers at once: an event it wrote
itself (committed before its 201) or a type none of its consumers handles.
After ``WAIT_S`` without the event: 503 with ``Retry-After``, nothing done.
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Annotated

from fastapi import Query, Request
from sqlalchemy import func, select

from jicai_events.unit_of_work import Published
from jicai_kit.problems import Problem
from jicai_kit.runtime import ServiceRuntime

HEADER = "Jicai-Consistency-Token"
WAIT_S = 10.0
POLL_S = 0.1
MAX_TOKENS = 50

_recorded: ContextVar[list[Published] | None] = ContextVar("jicai_recorded_events", default=None)


@asynccontextmanager
async def collecting() -> AsyncIterator[list[Published]]:
    """Around one request: collects the events its commands record (``remember``)."""
    events: list[Published] = []
    token = _recorded.set(events)
    try:
        yield events
    finally:
        _recorded.reset(token)


def remember(published: list[Published]) -> None:
    """Called once a command's unit of work has committed."""
    events = _recorded.get()
    if events is not None:
        events.extend(published)


def token_header(events: list[Published]) -> str:
    return ",".join(f"{e.type}/{e.id}" for e in events)


AfterTokens = Annotated[
    list[str] | None,
    Query(
        alias="after",
        max_length=MAX_TOKENS,
        description=f"consistency tokens from the `{HEADER}` header of earlier writes (to any service): "
        "answer only once this service has handled those events (503 with Retry-After if not within a few seconds)",
    ),
]


async def wait_for_tokens(request: Request, after: AfterTokens = None) -> None:
    """Before every route (``jicai_kit.http.before_each_route``): hold the request until the events named by ``after`` are handled here."""
    if not after:
        return
    runtime: ServiceRuntime = request.app.state.runtime
    wanted = [_parse(token) for raw in after for token in raw.split(",") if token.strip()]
    waiting = {(consumer, event_id) for type_name, event_id in wanted for consumer in _consumers_of(runtime, type_name)}
    deadline = time.monotonic() + WAIT_S
    processed = runtime.tables.processed_events
    while waiting:
        async with runtime.session_factory() as session:
            done = await session.execute(
                select(processed.c.consumer, processed.c.event_id).where(
                    func.concat(processed.c.consumer, "/", processed.c.event_id).in_([f"{c}/{e}" for c, e in waiting])
                )
            )
            waiting -= {(r.consumer, r.event_id) for r in done}
        if not waiting:
            return
        if time.monotonic() >= deadline:
            raise Problem(
                503, "not-yet-consistent", "Not yet consistent",
                f"{runtime.service} has not yet handled {len(waiting)} of the events named by `after`; retry shortly",
                headers={"Retry-After": "2"},
            )
        await asyncio.sleep(POLL_S)


def _parse(token: str) -> tuple[str, str]:
    type_name, sep, event_id = token.strip().partition("/")
    if not sep or not type_name or not event_id or len(event_id) > 64 or not type_name.isprintable() or not event_id.isprintable():
        raise Problem(422, "invalid-field", "Invalid request", f"after: {token!r} is not a consistency token (<type>/<event id>)",
                      errors=[{"field": "after", "reason": "not a consistency token (<type>/<event id>)"}])
    return type_name, event_id


def _consumers_of(runtime: ServiceRuntime, type_name: str) -> list[str]:
    """This service's consumer groups that handle ``type_name`` (none for its own events)."""
    return [spec.name for spec in (*runtime.consumers, *runtime.policy_consumer) if any(s.event.type_name() == type_name for s in spec.subscriptions)]
