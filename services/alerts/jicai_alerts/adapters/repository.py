"""Event-sourced persistence of the alerts service: the stream writer every rule appends through, facts counted
once, advisory locks, and the invoice obligation's streams, payments, business clock and blocked decisions.

Each other rule's streams have their own module (``volume_repository``, ``non_winning_repository``,
``kpi_repository``, ``manufacturer_repository``); the HTTP API reads through ``queries``."""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, TypeVar, cast

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import counted, kpi_projections, manufacturer_projections, non_winning_projections, volume_projections
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.counted import COUNTED_FACTS, CountedFact
from jicai_alerts.adapters.outgoing import translate
from jicai_alerts.adapters.projections import apply as apply_obligation
from jicai_alerts.adapters.projections import deadlines_set, invoice_stream
from jicai_alerts.adapters.queries import find
from jicai_alerts.adapters.replay import AlertsReplay
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.events import AlertsEvent, PaymentDeadlineSet, codec, decode_obligation
from jicai_alerts.domain.invoice_obligation import ClosedDay, Payment, Recorded
from jicai_events import Envelope
from jicai_events.streams import BulkProjector, Decided, StreamWriter
from jicai_events.unit_of_work import UnitOfWork

E = TypeVar("E")


async def apply(session: AsyncSession, event: AlertsEvent) -> None:
    """Project a recorded event into its read models."""
    if isinstance(event, COUNTED_FACTS):
        await counted_facts(session, [event])
    elif isinstance(event, k.KPI_EVENTS):
        await kpi_projections.apply(session, event)
    elif isinstance(event, mr.MANUFACTURER_EVENTS):
        await manufacturer_projections.apply(session, event)
    else:
        await apply_obligation(session, event)


async def counted_facts(session: AsyncSession, events: Sequence[CountedFact]) -> None:
    """The read models of counted facts, any mix of the five kinds (a batch counts each acceptance in three
    streams; a rebuild replays them by the thousand): every key in one statement, then each rule's rows in one
    or two. A kind writes tables of its own, but for R4's two, which commute (``non_winning_projections.count``),
    so only each kind's own order matters."""
    await counted.project_many(session, events)
    non_winning = [e for e in events if isinstance(e, n.WinningAcceptanceCounted | n.NonWinningPurchaseCounted)]
    volume = [e for e in events if isinstance(e, v.AcceptanceCounted)]  # a counted return changes no row (volume_projections)
    purchases = [e for e in events if isinstance(e, k.PurchaseCounted)]
    if non_winning:
        await non_winning_projections.count(session, non_winning)
    if volume:
        await volume_projections.count_acceptances(session, volume)
    if purchases:
        await kpi_projections.count_purchases(session, purchases)


BULK: dict[type[AlertsEvent], BulkProjector[AlertsEvent]] = cast(dict[type[AlertsEvent], BulkProjector[AlertsEvent]], {
    **dict.fromkeys(COUNTED_FACTS, counted_facts),
    PaymentDeadlineSet: deadlines_set,
})
"""Set-based read-model writes of the events a batch records by the hundred (``StreamWriter.project_many``): the
counted facts of every kind, following each other, in one call."""

streams: StreamWriter[AlertsEvent] = StreamWriter(codec, apply, translate, BULK, replay=AlertsReplay)

CLOCK_STREAM = "clock"


async def count_once(uow: UnitOfWork, fact: CountedFact, stream_type: str, decide: Callable[[set[str]], Sequence[AlertsEvent]]) -> None:
    """Decide on a fact counted once per stream from its key alone (``decide``: the ids already counted among
    this fact's → what to record), never loading the stream: a hospital's 10,000th acceptance costs its 100th's."""
    stream_id, already, version = await counted.lookup(uow.session, fact)
    new = decide(already)
    if new:
        await streams.append(uow, stream_id, stream_type, version, new)


CountOnce = tuple[CountedFact, str, Callable[[set[str]], Sequence[AlertsEvent]], Envelope | None]
"""A fact counted once per stream: the fact, its stream type, its decision (as ``count_once``) and the event it answers."""


async def count_many(uow: UnitOfWork, facts: Sequence[CountOnce]) -> None:
    """``count_once`` for many facts, in the order given: one lookup for all, decisions in memory (a fact counted
    earlier in the same batch is counted already), one write for all."""
    keys = [counted.key_of(fact) for fact, _, _, _ in facts]
    already, versions = await counted.lookup_many(uow.session, [key for key in keys if key is not None])
    decided: list[Decided[AlertsEvent]] = []
    for (_, stream_type, decide, cause), key in zip(facts, keys, strict=True):
        assert key is not None
        for event in decide({key.fact_id} if key in already else set()):
            versions[key.stream_id] += 1
            decided.append(Decided(key.stream_id, stream_type, versions[key.stream_id], event, str(uuid.uuid4()), cause))
            if (counts := counted.key_of(event)) is not None:
                already.add(counts)
    await streams.write_many(uow, decided)


async def lock_many(uow: UnitOfWork, keys: Sequence[str]) -> None:
    """``advisory_lock`` (exclusive) on many keys in one statement, in sorted order (no deadlock between two batches)."""
    if keys:
        await uow.session.execute(
            text("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest(CAST(:keys AS text[])) AS k"),
            {"keys": sorted(set(keys))},
        )


async def load_streams(uow: UnitOfWork, stream_ids: Sequence[str], decode: Callable[[str, dict[str, Any]], E]) -> dict[str, tuple[list[tuple[E, str]], int]]:
    """Many streams of one kind in one query: each one's events (``decode``d) with their ids, and its version."""
    loaded = await uow.events.load_many(stream_ids)
    return {stream_id: ([(decode(event_type, data), event_id) for event_id, event_type, data in events], len(events))
            for stream_id, events in loaded.items()}


async def load_recorded(uow: UnitOfWork, stream_id: str) -> tuple[list[Recorded], int]:
    """The stream's events with their event ids, and its version."""
    stored = await uow.events.load(stream_id)
    return [(decode_obligation(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def load_recorded_many(uow: UnitOfWork, stream_ids: Sequence[str]) -> dict[str, list[Recorded]]:
    """``load_recorded`` for many invoice streams in one query (a stream's version is its length)."""
    return {stream_id: recorded for stream_id, (recorded, _) in (await load_streams(uow, stream_ids, decode_obligation)).items()}


async def stream_version(uow: UnitOfWork, stream_id: str) -> int:
    es = t.event_tables.event_store
    version = await uow.session.scalar(select(func.max(es.c.version)).where(es.c.stream_id == stream_id))
    return int(version or 0)


async def lock_invoice(uow: UnitOfWork, invoice_id: str) -> None:
    """Serialize work on one invoice until commit: a payment and its invoice arriving at once
    on two consumers must not both miss each other."""
    await advisory_lock(uow, invoice_lock(invoice_id), shared=False)


def invoice_lock(invoice_id: str) -> str:
    return f"jicai-alerts:{invoice_stream(invoice_id)}"


async def lock_clock(uow: UnitOfWork, *, shared: bool) -> None:
    """A day close (exclusive) and new invoices (shared) wait for each other until commit, so an
    invoice is either seen by the day close or catches up with that day itself."""
    await advisory_lock(uow, f"jicai-alerts:{CLOCK_STREAM}", shared=shared)


async def advisory_lock(uow: UnitOfWork, key: str, *, shared: bool) -> None:
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await uow.session.execute(text(f"SELECT {function}(hashtextextended(:key, 0))"), {"key": key})


async def payments_for(uow: UnitOfWork, invoice_id: str) -> list[Payment]:
    return (await payments_for_many(uow, [invoice_id]))[invoice_id]


async def payments_for_many(uow: UnitOfWork, invoice_ids: Sequence[str]) -> dict[str, list[Payment]]:
    """The payments kept for each invoice (by date, then payment), one query for all."""
    pa = t.payment_allocations
    rows = await uow.session.execute(
        select(pa).where(pa.c.invoice_id.in_(invoice_ids)).order_by(pa.c.invoice_id, pa.c.paid_on, pa.c.payment_id)
    )
    payments: dict[str, list[Payment]] = {invoice_id: [] for invoice_id in invoice_ids}
    for r in rows.mappings():
        payments[r["invoice_id"]].append(Payment(r["payment_id"], r["amount"], r["paid_on"], r["payment_event_id"]))
    return payments


async def last_closed_day(uow: UnitOfWork) -> ClosedDay | None:
    row = (await uow.session.execute(select(t.clock).where(t.clock.c.clock_id == "business"))).mappings().first()
    return ClosedDay(row["last_closed_on"], row["day_closed_event_id"]) if row else None


async def invoices_waiting_for_calendar(uow: UnitOfWork) -> list[str]:
    """Invoices whose next decision waits for a year the working-day calendar did not cover."""
    inv = t.invoices
    rows = await uow.session.execute(
        select(inv.c.invoice_id).where(inv.c.waiting_for_calendar_year.is_not(None)).order_by(inv.c.received_on, inv.c.invoice_id)
    )
    return list(rows.scalars())


async def record_blocked(uow: UnitOfWork, invoice_id: str, day: date, reason: str, institution_id: str | None = None) -> None:
    """``invoice_id`` is the key of what is blocked (``volume-{institution}`` for R3)."""
    if institution_id is None:
        invoice = await find(uow, t.invoices, invoice_id)
        institution_id = invoice["institution_id"] if invoice else ""
    b = t.blocked_decisions
    statement = pg_insert(b).values(
        invoice_id=invoice_id, institution_id=institution_id, first_blocked_on=day,
        last_tried_on=day, reason=reason[:2000],
    )
    await uow.session.execute(
        statement.on_conflict_do_update(index_elements=[b.c.invoice_id], set_={"last_tried_on": day, "reason": reason[:2000]})
    )


async def clear_blocked(uow: UnitOfWork, *keys: str) -> None:
    """No longer blocked: ``keys`` (as ``record_blocked``) were decided; one statement for all (a day close clears every
    key it decided, most of them never blocked)."""
    if keys:
        await uow.session.execute(text("DELETE FROM blocked_decisions WHERE invoice_id = ANY(CAST(:keys AS text[]))"), {"keys": list(keys)})
