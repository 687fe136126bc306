"""Event-sourced persistence and read queries of the alerts service."""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import counted, kpi_projections, manufacturer_projections, non_winning_projections, volume_projections
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.counted import CountedFact
from jicai_alerts.adapters.non_winning_projections import non_winning_stream, product_stream
from jicai_alerts.adapters.outgoing import translate
from jicai_alerts.adapters.projections import apply as apply_obligation
from jicai_alerts.adapters.projections import deadlines_set, invoice_stream
from jicai_alerts.adapters.volume_projections import volume_stream
from jicai_alerts.domain import as_of
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.events import (
    AlertsEvent,
    InvoiceAwaitingCalendar,
    ObligationEvent,
    PaymentDeadlineSet,
    codec,
    decode_manufacturer,
    decode_non_winning,
    decode_obligation,
    decode_product,
    decode_volume,
)
from jicai_alerts.domain.invoice_obligation import ClosedDay, Payment, Recorded
from jicai_alerts.domain.volume_completion import Recorded as VolumeRecorded
from jicai_events import Envelope
from jicai_events.streams import BulkProjector, Decided, StreamWriter
from jicai_events.unit_of_work import UnitOfWork


async def apply(session: AsyncSession, event: AlertsEvent) -> None:
    """Project a recorded event into its read models."""
    await counted.project(session, event)
    if isinstance(event, k.KPI_EVENTS):
        await kpi_projections.apply(session, event)
    elif isinstance(event, mr.MANUFACTURER_EVENTS):
        await manufacturer_projections.apply(session, event)
    else:
        await apply_obligation(session, event)


def _counting(project: Callable[[AsyncSession, Any], Awaitable[None]]) -> BulkProjector[AlertsEvent]:
    """A bulk projector of counted facts: their keys, then their read models (as ``apply`` does one by one)."""

    async def project_counted(session: AsyncSession, events: Sequence[AlertsEvent]) -> None:
        await counted.project_many(session, events)
        await project(session, events)

    return project_counted


BULK: dict[type[AlertsEvent], BulkProjector[AlertsEvent]] = cast(dict[type[AlertsEvent], BulkProjector[AlertsEvent]], {
    n.WinningAcceptanceCounted: _counting(non_winning_projections.count_acceptances),
    v.AcceptanceCounted: _counting(volume_projections.count_acceptances),
    k.PurchaseCounted: _counting(kpi_projections.count_purchases),
    PaymentDeadlineSet: deadlines_set,
})
"""Set-based read-model writes of the events a batch records by the hundred (``StreamWriter.project_many``)."""

streams: StreamWriter[AlertsEvent] = StreamWriter(codec, apply, translate, BULK)

CLOCK_STREAM = "clock"


async def count_once(uow: UnitOfWork, fact: CountedFact, stream_type: str, decide: Callable[[set[str]], list[Any]]) -> None:
    """Decide on a fact counted once per stream from its key alone (``decide``: the ids already counted among
    this fact's → what to record), never loading the stream: a hospital's 10,000th acceptance costs its 100th's."""
    stream_id, already, version = await counted.lookup(uow.session, fact)
    new = decide(already)
    if new:
        await streams.append(uow, stream_id, stream_type, version, new)


CountOnce = tuple[CountedFact, str, Callable[[set[str]], list[Any]], Envelope | None]
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


async def load_recorded(uow: UnitOfWork, stream_id: str) -> tuple[list[Recorded], int]:
    """The stream's events with their event ids, and its version."""
    stored = await uow.events.load(stream_id)
    return [(decode_obligation(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def load_recorded_many(uow: UnitOfWork, stream_ids: Sequence[str]) -> dict[str, list[Recorded]]:
    """``load_recorded`` for many invoice streams in one query (a stream's version is its length)."""
    es = t.event_tables.event_store
    rows = await uow.session.execute(
        select(es.c.stream_id, es.c.event_id, es.c.event_type, es.c.data).where(es.c.stream_id.in_(stream_ids)).order_by(es.c.stream_id, es.c.version)
    )
    recorded: dict[str, list[Recorded]] = {stream_id: [] for stream_id in stream_ids}
    for stream_id, event_id, event_type, data in rows.all():
        recorded[stream_id].append((decode_obligation(event_type, data), event_id))
    return recorded


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


async def invoices_waiting_by_year(uow: UnitOfWork) -> dict[int, int]:
    """How many invoices wait for each missing calendar year."""
    inv = t.invoices
    rows = await uow.session.execute(
        select(inv.c.waiting_for_calendar_year, func.count()).where(inv.c.waiting_for_calendar_year.is_not(None))
        .group_by(inv.c.waiting_for_calendar_year)
    )
    return {int(year): int(n) for year, n in rows.all()}


async def find(uow: UnitOfWork, table: Table, key: str) -> dict[str, Any] | None:
    pk = list(table.primary_key.columns)[0]
    row = (await uow.session.execute(select(table).where(pk == key))).mappings().first()
    return dict(row) if row else None


async def list_rows(uow: UnitOfWork, table: Table, *conditions: Any, order_by: Any = None) -> list[dict[str, Any]]:
    query = select(table).where(*conditions).order_by(*(order_by or table.primary_key.columns))
    return [dict(r) for r in (await uow.session.execute(query)).mappings().all()]


async def stored_event(uow: UnitOfWork, *conditions: Any) -> dict[str, Any] | None:
    es = t.event_tables.event_store
    row = (await uow.session.execute(select(es).where(*conditions))).mappings().first()
    return dict(row) if row else None


async def published(uow: UnitOfWork, event_id: str) -> bytes | None:
    ob = t.event_tables.outbox
    return await uow.session.scalar(select(ob.c.payload).where(ob.c.event_id == event_id))


__all__ = ["find", "list_rows", "streams", "t"]


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


async def blocked_decisions(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Invoices waiting for a calendar year (from the invoice read model) and decisions a day close could not take."""
    inv, b = t.invoices, t.blocked_decisions
    waiting = await list_rows(uow, inv, inv.c.waiting_for_calendar_year.is_not(None), order_by=[inv.c.received_on, inv.c.invoice_id])
    rows = [
        {
            "invoice_id": r["invoice_id"], "institution_id": r["institution_id"],
            "first_blocked_on": r["warned_on"] or r["received_on"], "last_tried_on": r["warned_on"] or r["received_on"],
            "waiting_for_calendar_year": r["waiting_for_calendar_year"],
            "reason": (
                f"waiting for the working-day calendar of {r['waiting_for_calendar_year']}: "
                + ("the withhold date (暂缓拨付)" if r["warned_on"] else "the payment deadline (回款期限)")
                + f" needs it; load it with PUT /calendars/{r['waiting_for_calendar_year']}"
            ),
        }
        for r in waiting
    ]
    return rows + await list_rows(uow, b, order_by=[b.c.first_blocked_on, b.c.invoice_id])


async def clear_blocked(uow: UnitOfWork, invoice_id: str) -> None:
    await uow.session.execute(delete(t.blocked_decisions).where(t.blocked_decisions.c.invoice_id == invoice_id))


# ---- R3 volume completion ----------------------------------------------------------------


async def load_volume(uow: UnitOfWork, institution_id: str) -> tuple[list[VolumeRecorded], int]:
    """The institution's volume stream with event ids, and its version."""
    stored = await uow.events.load(volume_stream(institution_id))
    return [(decode_volume(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def lock_institution_volume(uow: UnitOfWork, institution_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{volume_stream(institution_id)}", shared=False)


async def institutions_due(uow: UnitOfWork, day: date) -> list[str]:
    """Institutions with a period end up to ``day`` to evaluate, or a suspension that may be resumed."""
    vi = t.volume_institutions
    rows = await uow.session.execute(
        select(vi.c.institution_id)
        .where((vi.c.next_period_end <= day) | vi.c.suspension_decision_id.is_not(None))
        .order_by(vi.c.institution_id)
    )
    return list(rows.scalars())


# ---- R4 non-winning purchases ------------------------------------------------------------


async def load_non_winning(uow: UnitOfWork, institution_id: str) -> tuple[list[nw.Recorded], int]:
    """The institution's non-winning stream with event ids, and its version."""
    stored = await uow.events.load(non_winning_stream(institution_id))
    return [(decode_non_winning(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def load_product(uow: UnitOfWork, product_id: str) -> tuple[n.WinningProductTracked | None, int]:
    """The latest tracked facts of a winning product, and its stream version."""
    stored = await uow.events.load(product_stream(product_id))
    return (decode_product(stored[-1].event_type, stored[-1].data) if stored else None), len(stored)


async def lock_institution_non_winning(uow: UnitOfWork, institution_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{non_winning_stream(institution_id)}", shared=False)


async def lock_product(uow: UnitOfWork, product_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{product_stream(product_id)}", shared=False)


async def winning_products(uow: UnitOfWork) -> dict[str, nw.Product]:
    """Every winning product listed with a generic group: its group and conversion factor."""
    rows = await uow.session.execute(select(t.non_winning_products))
    return {
        r["product_id"]: nw.Product(r["generic_group_id"], r["base_units_per_trading_unit"]) for r in rows.mappings()
    }


async def non_winning_institutions_due(uow: UnitOfWork, day: date) -> list[str]:
    """Institutions with a month to evaluate that ended by ``day``."""
    ni = t.non_winning_institutions
    rows = await uow.session.execute(
        select(ni.c.institution_id).where(ni.c.next_month_end <= day).order_by(ni.c.institution_id)
    )
    return list(rows.scalars())


# ---- manufacturers' monthly report ---------------------------------------------------------


async def load_manufacturer(uow: UnitOfWork, manufacturer_id: str) -> tuple[list[mr.Recorded], int]:
    stored = await uow.events.load(manufacturer_projections.manufacturer_stream(manufacturer_id))
    return [(decode_manufacturer(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def lock_manufacturer(uow: UnitOfWork, manufacturer_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{manufacturer_projections.manufacturer_stream(manufacturer_id)}", shared=False)


async def manufacturers_due(uow: UnitOfWork, day: date) -> list[str]:
    """Manufacturers with a month whose due day is before ``day``."""
    mw = t.manufacturer_watch
    rows = await uow.session.execute(select(mw.c.manufacturer_id).where(mw.c.next_due_on < day).order_by(mw.c.manufacturer_id))
    return list(rows.scalars())


# ---- as of ------------------------------------------------------------------------------------


async def dated_streams(uow: UnitOfWork, institution_id: str) -> tuple[list[list[as_of.Dated[ObligationEvent]]], list[as_of.Dated[v.VolumeEvent]]]:
    """Every event of the institution's invoice streams (one list per invoice) and of its volume stream, with the day
    the store recorded each: what "as of" filters by business date."""
    es = t.event_tables.event_store
    invoice_streams = (
        select(es.c.stream_id)
        .where(
            es.c.event_type.in_([PaymentDeadlineSet.name, InvoiceAwaitingCalendar.name]),
            es.c.data["institution_id"].astext == institution_id,
        )
        .scalar_subquery()
    )
    rows = await uow.session.execute(
        select(es.c.stream_id, es.c.event_id, es.c.event_type, es.c.data, es.c.recorded_at)
        .where(es.c.stream_id.in_(invoice_streams) | (es.c.stream_id == volume_stream(institution_id)))
        .order_by(es.c.stream_id, es.c.version)
    )
    invoices: dict[str, list[as_of.Dated[ObligationEvent]]] = {}
    volume: list[as_of.Dated[v.VolumeEvent]] = []
    for stream_id, event_id, event_type, data, recorded_at in rows.all():
        if stream_id == volume_stream(institution_id):
            volume.append(as_of.Dated(decode_volume(event_type, data), event_id, recorded_at.date()))
        else:
            invoices.setdefault(stream_id, []).append(as_of.Dated(decode_obligation(event_type, data), event_id, recorded_at.date()))
    return list(invoices.values()), volume
