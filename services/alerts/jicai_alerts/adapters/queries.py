"""Read queries of the alerts service: read-model rows for the HTTP API, stored events for the why, and each
institution's streams dated for "as of"."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Table, func, select

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.volume_projections import volume_stream
from jicai_alerts.domain import as_of
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.events import InvoiceAwaitingCalendar, ObligationEvent, PaymentDeadlineSet, decode_obligation, decode_volume
from jicai_events.unit_of_work import UnitOfWork

Row = dict[str, Any]
"""A read-model row as the database returns it: column name → value."""


class StoredRow(TypedDict):
    """An event-store row, as the why shows it."""

    stream_id: str
    event_id: str
    event_type: str
    data: dict[str, Any]
    """The stored event's JSON."""
    recorded_at: datetime


async def find(uow: UnitOfWork, table: Table, key: str) -> Row | None:
    pk = list(table.primary_key.columns)[0]
    row = (await uow.session.execute(select(table).where(pk == key))).mappings().first()
    return dict(row) if row else None


async def list_rows(
    uow: UnitOfWork, table: Table, *conditions: ColumnElement[bool], order_by: Sequence[ColumnElement[Any]] | None = None
) -> list[Row]:
    query = select(table).where(*conditions).order_by(*(order_by or table.primary_key.columns))
    return [dict(r) for r in (await uow.session.execute(query)).mappings().all()]


async def stored_event(uow: UnitOfWork, *conditions: ColumnElement[bool]) -> StoredRow | None:
    es = t.event_tables.event_store
    row = (await uow.session.execute(
        select(es.c.stream_id, es.c.event_id, es.c.event_type, es.c.data, es.c.recorded_at).where(*conditions)
    )).first()
    if row is None:
        return None
    return StoredRow(stream_id=row.stream_id, event_id=row.event_id, event_type=row.event_type, data=row.data, recorded_at=row.recorded_at)


async def published(uow: UnitOfWork, event_id: str) -> bytes | None:
    ob = t.event_tables.outbox
    return await uow.session.scalar(select(ob.c.payload).where(ob.c.event_id == event_id))


async def blocked_decisions(uow: UnitOfWork) -> list[Row]:
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


async def invoices_waiting_by_year(uow: UnitOfWork) -> dict[int, int]:
    """How many invoices wait for each missing calendar year."""
    inv = t.invoices
    rows = await uow.session.execute(
        select(inv.c.waiting_for_calendar_year, func.count()).where(inv.c.waiting_for_calendar_year.is_not(None))
        .group_by(inv.c.waiting_for_calendar_year)
    )
    return {int(year): int(n) for year, n in rows.all()}


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
