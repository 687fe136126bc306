"""The rebuild of alerts' read models (``jicai-serve alerts --rebuild-read-models``): each invoice folded as its
events come, its row written once at the end.

Recording an obligation event refolds the invoice's stream from the store into its row (``projections.apply``); a
rebuild has every event of every stream in hand, in the order stored, so it folds each invoice once with the same
step (``invoice_obligation.fold_one``) and, the read models being empty, COPYs every invoice's final row after the
last event. Nothing a rebuild projects reads ``invoices`` but a withhold's deadline, which the fold gives. Every other
table is written as recording writes it (``projections.project``, ``StreamWriter.project_many``), in the same order.
"""
from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import get_args

from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.projections import deadlines_decided, invoice_row, project, withheld
from jicai_alerts.domain import events as e
from jicai_alerts.domain import invoice_obligation as io
from jicai_events.pgcopy import copy_rows
from jicai_events.streams import Replay, StreamWriter

Stored = tuple[e.AlertsEvent, str]
"""An event as the rebuild reads it, with its id."""
OBLIGATION_KINDS = frozenset(get_args(e.ObligationEvent))
"""The kinds of an invoice's stream, by exact type (an ``isinstance`` of the union tries each of its eleven members)."""


class AlertsReplay(Replay[e.AlertsEvent]):
    def __init__(self, writer: StreamWriter[e.AlertsEvent]) -> None:
        super().__init__(writer)
        self.invoices: dict[str, io.State] = {}
        """Each invoice's obligation folded so far."""

    async def project(self, session: AsyncSession, events: Sequence[Stored]) -> None:
        for obligation, run in groupby(events, key=lambda stored: type(stored[0]) in OBLIGATION_KINDS):
            if obligation:
                await self._obligations(session, list(run))
            else:
                await self.writer.project_many(session, [event for event, _ in run])

    async def _obligations(self, session: AsyncSession, run: Sequence[Stored]) -> None:
        """A run of invoice events: the tables besides ``invoices`` in order (deadlines set by the run at once), each fold advanced."""
        for deadlines, same in groupby(run, key=lambda stored: isinstance(stored[0], e.PaymentDeadlineSet)):
            recorded = [(event, event_id) for event, event_id in same if isinstance(event, e.ObligationEvent)]
            if deadlines:
                await deadlines_decided(session, [event for event, _ in recorded if isinstance(event, e.PaymentDeadlineSet)])
            for event, event_id in recorded:
                state = self.invoices.get(event.invoice_id)
                if isinstance(event, e.SettlementWithheld):
                    if not isinstance(state, io.InvoiceObligation):
                        raise ValueError(f"{event.name} of invoice {event.invoice_id} before its deadline was set")
                    await withheld(session, event, state.deadline)
                elif not deadlines:
                    await project(event, session)
                self.invoices[event.invoice_id] = io.fold_one(state, event, event_id)

    async def finish(self, session: AsyncSession) -> None:
        """Every invoice's final row, in one COPY."""
        await copy_rows(session, t.invoices, [row for invoice_id, state in self.invoices.items() if (row := invoice_row(invoice_id, state)) is not None])
