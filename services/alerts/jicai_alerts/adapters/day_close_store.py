"""Set-based reads and writes of a day close in chunks (``jicai_alerts.application.day_close``).

A chunk of a thousand invoices costs a handful of statements, not a dozen per
invoice: their streams in one query, the decisions appended with one COPY into
the event store, the outbox, ``decisions`` and ``alerts``, and the invoice rows
(the folded obligations, already in memory) with one COPY and one UPDATE.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, MetaData, Table, select, text, update
from sqlalchemy.dialects.postgresql import insert

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.outgoing import translate
from jicai_alerts.adapters.projections import alert_row, decision_row, invoice_stream, invoice_values
from jicai_alerts.adapters.repository import CLOCK_STREAM
from jicai_alerts.domain import events as e
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain.events import ObligationEvent, codec
from jicai_events.bulk import publish_many
from jicai_events.pgcopy import copy_rows
from jicai_events.store import StreamAppend
from jicai_events.topics import ORDERS
from jicai_events.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class CloseRun:
    """A day close deciding its invoices chunk by chunk (``GET /clock`` shows it)."""

    business_date: date
    day_closed_event_id: str
    previous: io.ClosedDay | None
    """The clock before this close: the last day whose decisions are all taken."""
    invoices_due: int
    invoices_decided: int
    started_at: datetime
    correlation_id: str | None

    @property
    def remaining(self) -> int:
        return self.invoices_due - self.invoices_decided


@dataclass(frozen=True)
class Outlook:
    """What a close of a day finds, in one statement: the clock (and its stream's version), whether a close is in
    progress or an invoice due, and each other rule's due keys (those ``close_day`` of R3, R4 and the manufacturers'
    reports would read)."""

    last_closed: io.ClosedDay | None
    clock_version: int
    closing: bool
    invoices_due: bool
    volume_due: list[str]
    non_winning_due: list[str]
    manufacturers_due: list[str]

    @property
    def quiet(self) -> bool:
        """Nothing to queue and no close to resume: the close needs no chunk, no queue and no run."""
        return not self.closing and not self.invoices_due


async def outlook(uow: UnitOfWork, day: date) -> Outlook:
    """The ``Outlook`` of closing ``day``: one round trip, each part an indexed lookup."""
    row = (await uow.session.execute(
        text(
            f"SELECT c.last_closed_on, c.day_closed_event_id,"
            f" (SELECT coalesce(max(version), 0) FROM {t.event_tables.event_store.name} WHERE stream_id = :clock_stream),"
            f" EXISTS (SELECT FROM {t.day_close_runs.name}),"
            f" EXISTS (SELECT FROM {t.invoices.name} WHERE next_decision_on <= :day),"
            f" ARRAY(SELECT institution_id FROM {t.volume_institutions.name}"
            "  WHERE next_period_end <= :day OR suspension_decision_id IS NOT NULL ORDER BY institution_id),"
            f" ARRAY(SELECT institution_id FROM {t.non_winning_institutions.name} WHERE next_month_end <= :day ORDER BY institution_id),"
            f" ARRAY(SELECT manufacturer_id FROM {t.manufacturer_watch.name} WHERE next_due_on < :day ORDER BY manufacturer_id)"
            f" FROM (SELECT) AS one LEFT JOIN {t.clock.name} c ON c.clock_id = 'business'"
        ),
        {"day": day, "clock_stream": CLOCK_STREAM},
    )).one()
    last_closed_on, event_id, version, closing, invoices_due, volume_due, non_winning_due, manufacturers_due = row
    return Outlook(
        io.ClosedDay(last_closed_on, event_id) if last_closed_on is not None else None, int(version), bool(closing),
        bool(invoices_due), list(volume_due), list(non_winning_due), list(manufacturers_due),
    )


async def open_run(uow: UnitOfWork, day: io.ClosedDay, previous: io.ClosedDay | None) -> int:
    """Queue every invoice whose decision day has come by ``day`` (``INSERT … SELECT`` on the indexed
    ``next_decision_on``), each with its institution's orders-topic partition, and record the run; how many were queued."""
    institutions = list(await uow.session.scalars(
        text("SELECT DISTINCT institution_id FROM invoices WHERE next_decision_on <= :day"), {"day": day.business_date}
    ))
    count = int(await uow.session.scalar(
        text(
            "WITH queued AS (INSERT INTO day_close_queue (business_date, invoice_id, partition)"
            " SELECT :day, i.invoice_id, coalesce(p.partition, 0) FROM invoices i"
            " LEFT JOIN unnest(CAST(:institutions AS text[]), CAST(:partitions AS smallint[])) AS p(institution_id, partition)"
            " ON p.institution_id = i.institution_id"
            " WHERE i.next_decision_on <= :day RETURNING 1)"
            " SELECT count(*) FROM queued"
        ),
        {"day": day.business_date, "institutions": institutions, "partitions": [ORDERS.partition_of(i) for i in institutions]},
    ) or 0)
    await uow.session.execute(
        insert(t.day_close_runs).values(
            business_date=day.business_date, day_closed_event_id=day.event_id, invoices_due=count,
            previous_closed_on=previous.business_date if previous else None, previous_event_id=previous.event_id if previous else None,
            correlation_id=uow.correlation_id,
        )
    )
    return count


async def run_of(uow: UnitOfWork, day: date | None = None) -> CloseRun | None:
    """The close of ``day`` in progress (of any day without one), if any."""
    r = t.day_close_runs
    query = select(r).order_by(r.c.business_date).limit(1)
    if day is not None:
        query = query.where(r.c.business_date == day)
    row = (await uow.session.execute(query)).mappings().first()
    if row is None:
        return None
    previous = io.ClosedDay(row["previous_closed_on"], row["previous_event_id"]) if row["previous_closed_on"] else None
    return CloseRun(
        row["business_date"], row["day_closed_event_id"], previous, row["invoices_due"], row["invoices_decided"], row["started_at"],
        row["correlation_id"],
    )


async def take_chunk(uow: UnitOfWork, day: date, size: int, partition: int | None = None, after: str = "") -> list[str]:
    """Up to ``size`` queued invoices of the close (of ``partition``; None: of any) after ``after``, in id order, taken
    off the queue in this transaction. Rows another instance's chunk holds are skipped: two chunks never take one
    invoice, and the rows of a chunk that rolls back (its instance killed) are queued again for whoever comes next.

    ``after`` (the last id a taker took) starts the index scan past the rows earlier chunks deleted: while the close's
    ``DayClosed`` is claimed in an open transaction, PostgreSQL cannot prune them, and a scan from the start read all
    of them again, chunk after chunk (quadratic in a close of 100,000). A taker looks once more from the start before
    it stops, for rows handed back behind it."""
    where = "business_date = :day AND invoice_id > :after" + ("" if partition is None else " AND partition = :partition")
    taken = await uow.session.scalars(
        text(
            "WITH free AS ("
            f"SELECT invoice_id FROM day_close_queue WHERE {where} ORDER BY invoice_id LIMIT :size FOR UPDATE SKIP LOCKED),"
            " taken AS (DELETE FROM day_close_queue q USING free WHERE q.business_date = :day AND q.invoice_id = free.invoice_id"
            " RETURNING q.invoice_id)"
            " SELECT invoice_id FROM taken ORDER BY invoice_id"
        ),
        {"day": day, "size": size, "after": after} | ({} if partition is None else {"partition": partition}),
    )
    return list(taken)


async def wait_queued(uow: UnitOfWork, day: date) -> bool:
    """Whether invoices of the close are still queued once the chunks holding them have committed (decided: gone) or
    rolled back (queued again): waits on their rows' locks, no polling."""
    return await uow.session.scalar(
        text("SELECT invoice_id FROM day_close_queue WHERE business_date = :day ORDER BY invoice_id LIMIT 1 FOR UPDATE"), {"day": day}
    ) is not None


async def count_decided(uow: UnitOfWork, day: date, n: int) -> None:
    r = t.day_close_runs
    await uow.session.execute(update(r).where(r.c.business_date == day).values(invoices_decided=r.c.invoices_decided + n))


async def finish_run(uow: UnitOfWork, day: date) -> None:
    """The close's queue rows (none left but a stray) and its run go, in one statement."""
    await uow.session.execute(
        text(
            f"WITH queue AS (DELETE FROM {t.day_close_queue.name} WHERE business_date = :day)"
            f" DELETE FROM {t.day_close_runs.name} WHERE business_date = :day"
        ),
        {"day": day},
    )


async def load_streams(uow: UnitOfWork, invoice_ids: Sequence[str]) -> dict[str, list[io.Recorded]]:
    """The invoice streams of ``invoice_ids`` with their event ids, in one query (a missing stream: an empty list). The
    data comes as JSON text, which pydantic parses straight into each event (no dict in between: half the time)."""
    by_stream: dict[str, list[io.Recorded]] = {invoice_stream(i): [] for i in invoice_ids}
    rows = await uow.session.execute(
        text(
            f"SELECT stream_id, event_id, event_type, data::text FROM {t.event_tables.event_store.name}"
            " WHERE stream_id = ANY(CAST(:streams AS text[])) ORDER BY stream_id, version"
        ),
        {"streams": list(by_stream)},
    )
    for stream_id, event_id, event_type, data in rows.all():
        event = codec.decode_json(event_type, data)
        if not isinstance(event, ObligationEvent):
            raise TypeError(f"{event_type} does not belong in an invoice stream")
        by_stream[stream_id].append((event, event_id))
    return {i: by_stream[invoice_stream(i)] for i in invoice_ids}


@dataclass(frozen=True)
class Decided:
    """One invoice's decisions of a chunk: its stream version before them, the events with the ids they were given,
    and the obligation folded after them."""

    invoice_id: str
    version: int
    events: list[io.Recorded]
    state: io.InvoiceObligation


async def record(uow: UnitOfWork, decided: Sequence[Decided]) -> None:
    """Append, project and publish the decisions of a chunk, set-based: the same rows ``StreamWriter.append`` writes
    event by event, except that each invoice row is written once, from the state folded in memory."""
    if not decided:
        return
    metadata = {"correlation_id": uow.correlation_id, "causation_id": uow.causation_id}
    await uow.events.append_many(
        [
            StreamAppend(invoice_stream(d.invoice_id), "invoice", d.version, [codec.encode(ev) for ev, _ in d.events], [i for _, i in d.events])
            for d in decided
        ],
        metadata,
    )
    ordered = [(ev, event_id, d.state) for d in decided for ev, event_id in d.events]
    await copy_rows(uow.session, t.decisions, [decision_row(ev, _effective_on(ev)) for ev, _, _ in ordered if isinstance(ev, e.Decision)])
    await copy_rows(uow.session, t.alerts, [_opened(ev, state) for ev, _, state in ordered if isinstance(ev, e.PaymentOverdueWarned | e.SettlementWithheld)])
    for ev, _, _ in ordered:
        if isinstance(ev, e.OverdueWarningResolved | e.SettlementReleased):  # rare at a close: paid within the grace period
            await _close_alerts(uow, ev)
    await _update_invoices(uow, [d.state for d in decided])
    await publish_many(uow, [(out, event_id) for ev, event_id, _ in ordered if (out := translate(ev)) is not None])


def _effective_on(event: e.Decision) -> date:
    if isinstance(event, e.PaymentOverdueWarned):
        return event.warned_on
    if isinstance(event, e.SettlementWithheld):
        return event.withheld_from
    if isinstance(event, e.OverdueWarningResolved):
        return event.resolved_on
    if isinstance(event, e.SettlementReleased):
        return event.released_on
    raise TypeError(f"a day close does not decide {event.name}")


def _opened(event: e.PaymentOverdueWarned | e.SettlementWithheld, state: io.InvoiceObligation) -> dict[str, Any]:
    if isinstance(event, e.PaymentOverdueWarned):
        return alert_row(event, "overdue_warning", event.warned_on, event.deadline)
    return alert_row(event, "settlement_withheld", event.withheld_from, state.deadline)


async def _close_alerts(uow: UnitOfWork, event: e.OverdueWarningResolved | e.SettlementReleased) -> None:
    a = t.alerts
    closed_on = event.resolved_on if isinstance(event, e.OverdueWarningResolved) else event.released_on
    await uow.session.execute(
        update(a).where(a.c.invoice_id == event.invoice_id, a.c.closed_on.is_(None)).values(closed_on=closed_on, closed_by=event.decision_id)
    )


_INVOICE_ROWS = Table("day_close_invoice_rows", MetaData(), *(Column(c.name, c.type) for c in t.invoices.c))
"""A temporary twin of ``invoices``: a chunk's rows go in with one COPY and update their invoices with one statement."""


async def _update_invoices(uow: UnitOfWork, states: Sequence[io.InvoiceObligation]) -> None:
    """Each invoice row becomes its obligation folded after the chunk (every invoice of a close has its row)."""
    rows = [{"invoice_id": s.invoice_id, **invoice_values(s)} for s in states]
    await uow.session.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {_INVOICE_ROWS.name} (LIKE invoices) ON COMMIT DELETE ROWS"))
    await copy_rows(uow.session, _INVOICE_ROWS, rows)
    columns = [c for c in rows[0] if c != "invoice_id"]
    await uow.session.execute(text(
        f"UPDATE invoices i SET {', '.join(f'{c} = r.{c}' for c in columns)} FROM {_INVOICE_ROWS.name} r WHERE i.invoice_id = r.invoice_id"
    ))
