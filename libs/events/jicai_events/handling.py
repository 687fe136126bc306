"""Applying an event exactly once, or refusing it where an operator sees it.

The database side of a consumer (``jicai_events.consumer`` reads Kafka): each
event is claimed in ``processed_events`` (``jicai_events.claims``) and handled
in the same unit of work.

* What can never be applied as sent (an invalid payload, a handler's
  ``Unprocessable`` verdict) is dead-lettered: the dead-letter topic and the
  service's ``dead_letters`` table (``jicai_events.dead_letters``) get the
  message and the reason; ``redrive`` hands it to the same handler once the
  cause is fixed, exactly once.
* Anything else a handler raises is a fault of ours, not of the fact: it is
  retried ``handler_attempts`` times, then the consumer must stop there
  (``MustPark``: it parks the partition, ``jicai_events.parking``).
* The database being away, and concurrency conflicts, are waited out.

The records of one poll are handled together in ``jicai_events.batches``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_not_exception_type, wait_exponential

from jicai_events import correlation, dead_letters
from jicai_events.base import IntegrationEvent, UnknownEventType
from jicai_events.claims import Claims
from jicai_events.dead_letters import Origin
from jicai_events.envelope import Envelope
from jicai_events.metrics import EVENTS_CONSUMED
from jicai_events.store import ConcurrencyConflict
from jicai_events.subscriptions import AfterHandling, AlreadySettled, AwaitsOtherFacts, Handler, MustPark, Subscription, Unprocessable
from jicai_events.tables import EventTables
from jicai_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
handled_log = logging.getLogger("jicai_events.handled")
"""One line per event a consumer took (not ``ignored``), under its correlation id: JICAI_LOG_HANDLED_EVENTS=false mutes it."""

TRANSIENT = (OperationalError, ConcurrencyConflict)
"""Failures retried until they pass: the database away, a concurrent writer of the same stream."""



@dataclass(frozen=True)
class Redriven:
    """The outcome of a redrive: ``handled`` (now applied) or ``refused`` (still dead, with the new reason)."""

    outcome: str
    dead_letter: dead_letters.DeadLetter


def log_handled(consumer: str, envelope: Envelope, outcome: str, *, bound: bool = False) -> None:
    """The ``handled_log`` line of one event a consumer took (none for ``ignored``), under the event's correlation id
    (``bound``: the caller has bound it already)."""
    if outcome == "ignored" or not handled_log.isEnabledFor(logging.INFO):
        return
    token = None if bound else correlation.bind(envelope.correlationid)
    try:
        handled_log.info("consumer %s: %s %s %s", consumer, outcome, envelope.type, envelope.id,
                         extra={"consumer": consumer, "event_type": envelope.type, "event_id": envelope.id, "outcome": outcome})
    finally:
        if token is not None:
            correlation.unbind(token)


class EventHandling(Claims):
    """One consumer group's handlers over the service's database (no Kafka reading here)."""

    def __init__(
        self,
        *,
        service: str,
        name: str,
        dead_letter_producer: AIOKafkaProducer | None,
        session_factory: async_sessionmaker[AsyncSession],
        tables: EventTables,
        subscriptions: list[Subscription],
        handler_attempts: int = 3,
        processed_retention: timedelta = timedelta(days=30),
    ) -> None:
        self.service = service
        self.name = name
        self._dlq = dead_letter_producer
        self._factory = session_factory
        self._tables = tables
        self._handlers = {s.event.type_name(): s.handler for s in subscriptions}
        self._batch_handlers = {s.event.type_name(): s.batch for s in subscriptions if s.batch is not None}
        self._touches = {s.event.type_name(): s.touches for s in subscriptions if s.touches is not None}
        self._attempts = handler_attempts
        self._retention = processed_retention

    async def _intercept(self, envelope: Envelope, event: IntegrationEvent) -> str | None:
        """An event the reader takes care of itself (an outcome), or None to handle it."""
        return None

    async def _receive(self, envelope: Envelope, origin: Origin, raw: bytes, key: bytes | None) -> str:
        """Apply, dead-letter or (raising ``MustPark``) refuse to pass one envelope, logging under its correlation id."""
        bound = correlation.bind(envelope.correlationid)
        try:
            outcome = await self._receive_one(envelope, origin, raw, key)
            log_handled(self.name, envelope, outcome, bound=True)
            return outcome
        finally:
            correlation.unbind(bound)

    async def _receive_one(self, envelope: Envelope, origin: Origin, raw: bytes, key: bytes | None) -> str:
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return "ignored"  # another consumer's event on a shared topic, or a newer type we don't read
        try:
            event = envelope.event()
        except (ValidationError, UnknownEventType) as exc:
            return await self._dead_letter(origin, raw, key, envelope, f"invalid {envelope.type}: {exc}")
        intercepted = await self._intercept(envelope, event)
        if intercepted is not None:
            return intercepted
        try:
            return await self._handle_with_retries(envelope, event, handler)
        except Unprocessable as exc:
            return await self._dead_letter(origin, raw, key, envelope, f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            log.exception("consumer %s could not handle %s %s", self.name, envelope.type, envelope.id)
            raise MustPark(f"{envelope.type} {envelope.id}: {type(exc).__name__}: {exc}", retries=isinstance(exc, AwaitsOtherFacts)) from exc

    async def deliver(self, envelope: Envelope, *, origin: Origin | None = None) -> str:
        """Handle one envelope as a Kafka delivery would, minus Kafka (for tests and replays).

        With an ``origin`` (where it would have been read) a refusal is dead-lettered as from
        Kafka; without one, whatever the handler raises is raised. A ``DayClosed`` is decided
        at once: there are no partitions to wait for."""
        if origin is None:
            handler = self._handlers.get(envelope.type)
            if handler is None:
                return "ignored"
            return await self._handle_with_retries(envelope, envelope.event(), handler)
        try:
            return await self._receive(envelope, origin, envelope.to_bytes(), envelope.partitionkey.encode())
        except MustPark as exc:
            raise (exc.__cause__ or exc) from None


    # -- handling ------------------------------------------------------------------------------------

    async def _handle_with_retries(
        self, envelope: Envelope, event: IntegrationEvent, handler: Handler, *, then: AfterHandling | None = None,
        redrive: dead_letters.DeadLetter | None = None,
    ) -> str:
        # The database being away and concurrency conflicts are retried until they pass;
        # anything else but a verdict a few times (it may be a passing fault of ours).
        def give_up(state: RetryCallState) -> bool:
            failed = state.outcome.exception() if state.outcome else None
            return not isinstance(failed, TRANSIENT) and state.attempt_number >= self._attempts

        async for attempt in AsyncRetrying(
            retry=retry_if_not_exception_type((Unprocessable, AlreadySettled)),
            wait=wait_exponential(multiplier=0.1, max=5),
            stop=give_up,
            reraise=True,
        ):
            with attempt:
                return await self._handle_once(envelope, event, handler, then, redrive)
        raise AssertionError("unreachable")

    async def _handle_once(
        self, envelope: Envelope, event: IntegrationEvent, handler: Handler, then: AfterHandling | None,
        redrive: dead_letters.DeadLetter | None = None,
    ) -> str:
        async with UnitOfWork(self._factory, self._tables) as uow:
            outcome = "duplicate"
            if redrive is not None:
                await self._unclaim_dead_letter(uow.session, redrive)
            if await self._claim(uow.session, envelope.id, envelope.type, "handled"):
                uow.caused_by(envelope)
                await handler(uow, envelope, event)
                outcome = "handled"
            if then is not None:
                await then(uow)
        return outcome


    # -- redrive and pruning -------------------------------------------------------------------------

    async def redrive(self, dead_letter_id: int) -> Redriven | None:
        """Hand a dead letter's stored message to this consumer's handler (None: no such dead letter).

        Handled: the dead-lettered claim is replaced by the handled one in the handler's own
        transaction (exactly once) and the dead letter becomes ``redriven``. Refused again
        (or failing): nothing of it is applied; count, last seen and reason are updated."""
        async with self._factory.begin() as session:
            found = await dead_letters.one(session, self._tables, dead_letter_id)
        if found is None or found.consumer != self.name:
            return None
        if found.status is not dead_letters.Status.DEAD:
            raise AlreadySettled(f"dead letter {dead_letter_id} is {found.status.value}, not dead")
        try:
            envelope = Envelope.from_bytes(found.message)
            handler = self._handlers.get(envelope.type)
            if handler is None:
                raise Unprocessable(f"{self.name} does not handle {envelope.type}")
            event = envelope.event()

            async def settled(uow: UnitOfWork) -> None:
                await dead_letters.settle(uow.session, self._tables, found.id, dead_letters.Status.REDRIVEN)

            outcome = await self._handle_with_retries(envelope, event, handler, then=settled, redrive=found)
        except AlreadySettled:
            raise
        except Exception as exc:  # noqa: BLE001 - any refusal is recorded on the dead letter, not lost
            async with self._factory.begin() as session:
                await dead_letters.refused_again(session, self._tables, found.id, f"{type(exc).__name__}: {exc}")
            outcome = "refused"
        async with self._factory.begin() as session:
            after = await dead_letters.one(session, self._tables, found.id)
        assert after is not None
        EVENTS_CONSUMED.labels(self.service, self.name, found.event_type, f"redrive_{outcome}").inc()
        return Redriven(outcome, after)



__all__ = ["EventHandling", "Redriven"]
