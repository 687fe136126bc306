"""What a service hands a consumer: its subscriptions, their handlers, and the verdicts a handler gives.

``jicai_events.handling`` applies them exactly once; ``jicai_events.consumer`` reads Kafka for them.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jicai_events.base import IntegrationEvent
from jicai_events.envelope import Envelope
from jicai_events.unit_of_work import UnitOfWork

Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, Sequence[tuple[Envelope, Any]]], Awaitable[None]]
"""Handles many events of one type at once, in record order, as ``Handler`` would one after the other
(each event's writes continue its own envelope's correlation: ``UnitOfWork.caused_by``)."""
AfterHandling = Callable[[UnitOfWork], Awaitable[None]]


class Unprocessable(Exception):
    """A handler's verdict that this event can never be applied as it is (goes to dead letters)."""


class AlreadySettled(Exception):
    """A redrive of a dead letter that is no longer dead (redriven or resolved meanwhile)."""


class AwaitsOtherFacts(Exception):
    """A failure that heals by itself: this service has not yet consumed a fact of another topic that the event
    presupposes (its policy book behind the writer's). The partition parks and is retried on its own, backing off."""


class MustPark(Exception):
    """A handler kept failing for a reason that is not the event's: stop this partition here (``retries``: and try
    it again on its own after a back-off, the failure being one that heals — ``AwaitsOtherFacts``)."""

    def __init__(self, reason: str, *, retries: bool = False) -> None:
        super().__init__(reason)
        self.retries = retries


@dataclass(frozen=True)
class Subscription:
    """``batch``: the set-based twin of ``handler`` for a run of events of this type (optional).

    ``touches``: the state the handler reads and writes, named by the service (None: anything).
    Two subscriptions whose ``touches`` are disjoint commute: within a batch, an event may be
    handled with an earlier one of its type, before events in between that commute with it (the
    interleaved acceptances and invoices of one partition then make two set-based runs, not many
    runs of one). Their relative order on the outbox is the one thing that changes: declare
    disjoint only what publishes nothing, or nothing whose order across the two matters."""

    event: type[IntegrationEvent]
    handler: Handler
    batch: BatchHandler | None = None
    touches: frozenset[str] | None = None



__all__ = ["AfterHandling", "AlreadySettled", "BatchHandler", "Handler", "MustPark", "Subscription", "Unprocessable"]
