"""Applying an event exactly once, or refusing it where an operator sees it.

The database side of a consumer (``jicai_events.consumer`` reads Kafka): each
event is claimed in ``processed_events`` (``INSERT … ON CONFLICT DO NOTHING``:
a redelivered event, even one another instance is handling right now, finds it
taken and changes nothing) and handled in the same unit of work.

* What can never be applied as sent (an invalid payload, a handler's
  ``Unprocessable`` verdict) is dead-lettered: the dead-letter topic and the
  service's ``dead_letters`` table (``jicai_events.dead_letters``) get the
  message and the reason; ``redrive`` hands it to the same handler once the
  cause is fixed, exactly once.
* Anything else a handler raises is a fault of ours, not of the fact: it is
  retried ``handler_attempts`` times, then the consumer must stop there
  (``MustPark``: it parks the partition, ``jicai_events.parking``).
* The database being away, and concurrency conflicts, are waited out.

Batches (``handle_batch``): the records of one poll are handled in one unit of
work: one multi-row claim for all their ids, the handlers in record order (a
run of one event type goes to the subscription's ``batch`` handler, set-based,
when it has one), commit once. A batch that fails in any way is rolled back
whole and its records are handled again one by one, so refusals, retries and
parking are exactly those of one-at-a-time handling.

Claims older than the retention are pruned (never a dead-lettered one): an id
is needed only while Kafka can still deliver its message again.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from pydantic import ValidationError
from sqlalchemy import CursorResult, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, retry_if_not_exception_type, stop_after_attempt, wait_exponential

from jicai_events import correlation, dead_letters
from jicai_events.base import IntegrationEvent, UnknownEventType
from jicai_events.catalog import DayClosed
from jicai_events.dead_letters import Origin
from jicai_events.envelope import Envelope
from jicai_events.metrics import DEAD_LETTERS, EVENTS_CONSUMED
from jicai_events.store import ConcurrencyConflict
from jicai_events.tables import EventTables
from jicai_events.topics import DEAD_LETTERS as DEAD_LETTER_TOPIC
from jicai_events.unit_of_work import UnitOfWork
from jicai_events.unnest import insert_rows

log = logging.getLogger(__name__)
handled_log = logging.getLogger("jicai_events.handled")
"""One line per event a consumer took (not ``ignored``), under its correlation id: JICAI_LOG_HANDLED_EVENTS=false mutes it."""

Handler = Callable[[UnitOfWork, Envelope, Any], Awaitable[None]]
BatchHandler = Callable[[UnitOfWork, Sequence[tuple[Envelope, Any]]], Awaitable[None]]
"""Handles many events of one type at once, in record order, as ``Handler`` would one after the other
(each event's writes continue its own envelope's correlation: ``UnitOfWork.caused_by``)."""
AfterHandling = Callable[[UnitOfWork], Awaitable[None]]

TRANSIENT = (OperationalError, ConcurrencyConflict)
"""Failures retried until they pass: the database away, a concurrent writer of the same stream."""


class Unprocessable(Exception):
    """A handler's verdict that this event can never be applied as it is (goes to dead letters)."""


class AlreadySettled(Exception):
    """A redrive of a dead letter that is no longer dead (redriven or resolved meanwhile)."""


class MustPark(Exception):
    """A handler kept failing for a reason that is not the event's: stop this partition here."""


@dataclass(frozen=True)
class Redriven:
    """The outcome of a redrive: ``handled`` (now applied) or ``refused`` (still dead, with the new reason)."""

    outcome: str
    dead_letter: dead_letters.DeadLetter


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


class EventHandling:
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
            if outcome != "ignored":
                handled_log.info("consumer %s: %s %s %s", self.name, outcome, envelope.type, envelope.id,
                         extra={"consumer": self.name, "event_type": envelope.type, "event_id": envelope.id, "outcome": outcome})
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
            raise MustPark(f"{envelope.type} {envelope.id}: {type(exc).__name__}: {exc}") from exc

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

    async def deliver_many(self, envelopes: Sequence[Envelope]) -> list[str]:
        """Handle envelopes as the batches of a Kafka poll would, minus Kafka (for tests and replays): one unit of
        work per run, or one by one (``deliver``) if it fails; a ``DayClosed`` alone, between runs, as the consumer
        does (a close commits its chunks in transactions of their own)."""
        outcomes: list[str] = []
        run: list[Envelope] = []
        for envelope in envelopes:
            if envelope.type == DayClosed.type_name():
                outcomes += await self._deliver_run(run) + [await self.deliver(envelope)]
                run = []
            else:
                run.append(envelope)
        return outcomes + await self._deliver_run(run)

    async def _deliver_run(self, envelopes: Sequence[Envelope]) -> list[str]:
        if not envelopes:
            return []
        items = [(envelope, envelope.event()) for envelope in envelopes]
        try:
            return await self.handle_batch(items)
        except Exception:  # noqa: BLE001 - the one-by-one pass raises what one event raises
            log.info("consumer %s: batch of %d failed, handling it one by one", self.name, len(items), exc_info=True)
        return [await self.deliver(envelope) for envelope in envelopes]

    async def _write(self, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(DBAPIError), wait=wait_exponential(multiplier=0.1, max=5), reraise=True,
            stop=stop_after_attempt(1000),
        ):
            with attempt:
                async with self._factory.begin() as session:
                    await work(session)

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

    async def handle_batch(self, items: Sequence[tuple[Envelope, Any]]) -> list[str]:
        """Claim and handle ``items`` (envelope, event; in record order) in one unit of work: the outcome of each.

        Anything failing rolls the whole batch back and is raised: the caller handles the
        records one by one (``_receive``), which decides refusals, retries and parking."""
        outcomes = ["ignored" if envelope.type not in self._handlers else "duplicate" for envelope, _ in items]
        first: dict[str, int] = {}
        for i, (envelope, _) in enumerate(items):
            if outcomes[i] == "duplicate":
                first.setdefault(envelope.id, i)  # the same id twice in one batch: the first counts
        if not first:
            return outcomes
        async with UnitOfWork(self._factory, self._tables) as uow:
            claimed = await self._claim_many(uow.session, sorted((items[i][0].id, items[i][0].type) for i in first.values()))
            todo = [i for i in first.values() if items[i][0].id in claimed]
            for event_type, indexes in self._runs([items[i][0].type for i in todo], todo):
                batch = self._batch_handlers.get(event_type)
                if batch is not None:
                    await batch(uow, [items[i] for i in indexes])
                else:
                    for i in indexes:
                        envelope, event = items[i]
                        uow.caused_by(envelope)
                        await self._handlers[event_type](uow, envelope, event)
                for i in indexes:
                    outcomes[i] = "handled"
        if handled_log.isEnabledFor(logging.INFO):  # after the commit: the line says what happened
            for (envelope, _), outcome in zip(items, outcomes, strict=True):
                if outcome != "ignored":
                    bound = correlation.bind(envelope.correlationid)
                    try:
                        handled_log.info("consumer %s: %s %s %s", self.name, outcome, envelope.type, envelope.id, extra={
                            "consumer": self.name, "event_type": envelope.type, "event_id": envelope.id, "outcome": outcome})
                    finally:
                        correlation.unbind(bound)
        return outcomes

    def _runs(self, types: Sequence[str], indexes: Sequence[int]) -> list[tuple[str, list[int]]]:
        """Group ``indexes`` (of events of ``types``, in order) into runs of one type, handled run after run: an
        event of a type with a batch handler joins the last run of its type if every event since commutes with it."""
        runs: list[tuple[str, list[int]]] = []
        for event_type, index in zip(types, indexes, strict=True):
            joined = None
            touches = self._touches.get(event_type) if event_type in self._batch_handlers else None
            for run_type, run in reversed(runs):
                if run_type == event_type:
                    joined = run
                    break
                between = self._touches.get(run_type)
                if touches is None or between is None or between & touches:
                    break
            if joined is not None:
                joined.append(index)
            elif runs and runs[-1][0] == event_type:
                runs[-1][1].append(index)
            else:
                runs.append((event_type, [index]))
        return runs

    async def _claim_many(self, session: AsyncSession, ids: Sequence[tuple[str, str]]) -> set[str]:
        """Take many (event id, type) at once (in id order: two claimers never wait on each other crosswise);
        the ids taken now (the others were taken already)."""
        t = self._tables.processed_events
        rows = [{"consumer": self.name, "event_id": event_id, "event_type": event_type, "outcome": "handled"} for event_id, event_type in ids]
        claimed = await insert_rows(session, t, rows, on_conflict=["consumer", "event_id"], returning=["event_id"])
        return set(claimed.scalars()) if claimed is not None else set()

    async def _unclaim_dead_letter(self, session: AsyncSession, dead: dead_letters.DeadLetter) -> None:
        """Free a dead letter's claim for its redrive (locked: two redrives of it never both apply)."""
        locked = await dead_letters.one(session, self._tables, dead.id, for_update=True)
        if locked is None or locked.status is not dead_letters.Status.DEAD:
            raise AlreadySettled(f"dead letter {dead.id} was settled meanwhile")
        t = self._tables.processed_events
        await session.execute(
            delete(t).where(t.c.consumer == self.name, t.c.event_id == dead.event_id, t.c.outcome == "dead_lettered")
        )

    async def _claim(self, session: AsyncSession, event_id: str, event_type: str, outcome: str, reason: str | None = None) -> bool:
        """Take ``event_id`` for this consumer; False if it is taken (waits for a concurrent claimer to finish)."""
        t = self._tables.processed_events
        claimed = await session.execute(
            pg_insert(t)
            .values(consumer=self.name, event_id=event_id, event_type=event_type, outcome=outcome, reason=reason)
            .on_conflict_do_nothing(index_elements=[t.c.consumer, t.c.event_id])
            .returning(t.c.event_id)
        )
        return claimed.first() is not None

    async def _dead_letter(self, origin: Origin, raw: bytes, key: bytes | None, envelope: Envelope | None, reason: str) -> str:
        event_type = envelope.type if envelope else "unparseable"
        if self._dlq is not None:
            headers = [
                ("x-dead-letter-reason", reason[:2000].encode()),
                ("x-original-topic", (origin.topic or "").encode()),
                ("x-original-partition", str(origin.partition).encode()),
                ("x-original-offset", str(origin.offset).encode()),
                ("x-consumer", self.name.encode()),
            ]
            await (await self._dlq.send(DEAD_LETTER_TOPIC.qualified(), value=raw, key=key, headers=headers))
        event_id = envelope.id if envelope else f"{origin.topic}:{origin.partition}:{origin.offset}"

        async def write(session: AsyncSession) -> None:
            # The claim and the dead letter together: a redelivery finds it taken, a redrive replaces the claim.
            if await self._claim(session, event_id, event_type, "dead_lettered", reason[:dead_letters.MAX_REASON]):
                await dead_letters.record(
                    session, self._tables, consumer=self.name, event_id=event_id, event_type=event_type, origin=origin,
                    message=raw, reason=reason,
                )

        await self._write(write)
        DEAD_LETTERS.labels(self.service, self.name, event_type).inc()
        return "dead_lettered"

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

    async def prune(self, now: datetime | None = None) -> int:
        """Forget claims older than the retention (never a dead-lettered one): how many went."""
        t = self._tables.processed_events
        before = (now or datetime.now(UTC)) - self._retention
        async with self._factory.begin() as session:
            pruned = await session.execute(
                delete(t)
                .where(t.c.consumer == self.name, t.c.outcome != "dead_lettered", t.c.processed_at < before)
            )
            count: int = cast(CursorResult[Any], pruned).rowcount
        if count:
            log.info("consumer %s pruned %d processed ids older than %s", self.name, count, before)
        return count


__all__ = ["AlreadySettled", "BatchHandler", "EventHandling", "Handler", "MustPark", "Origin", "Redriven", "Subscription", "Unprocessable"]
