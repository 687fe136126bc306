"""Handling the records of one poll in one unit of work.

One multi-row claim for all their ids, the handlers in record order (a run of
one event type goes to the subscription's ``batch`` handler, set-based, when it
has one), commit once. A batch that fails in any way is rolled back whole and
its records are handled again one by one (``EventHandling``), so refusals,
retries and parking are exactly those of one-at-a-time handling.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from jicai_events.catalog import DayClosed
from jicai_events.envelope import Envelope
from jicai_events.handling import EventHandling, log_handled
from jicai_events.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


class BatchedHandling(EventHandling):
    """``EventHandling`` plus the batches of a poll (``handle_batch``) and their replay without Kafka (``deliver_many``)."""

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
        for (envelope, _), outcome in zip(items, outcomes, strict=True):  # after the commit: the line says what happened
            log_handled(self.name, envelope, outcome)
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

