"""Event-sourced persistence and read queries of the monitoring indicators (监测考核, R7): the ``kpi-*`` streams,
and the invoices due in a month read from the invoice streams."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.kpi_projections import kpi_stream
from jicai_alerts.adapters.repository import advisory_lock, stream_version
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import kpis
from jicai_alerts.domain.events import PaymentApplied, PaymentDeadlineSet, decode_kpi
from jicai_events.unit_of_work import UnitOfWork


async def load_kpi(uow: UnitOfWork, institution_id: str, *, purchases: bool = True) -> tuple[list[kpis.Recorded], int]:
    """The institution's kpi stream with event ids, and its version. ``purchases=False`` leaves out the purchase
    facts (every acceptance is one): the filing-purchase line decides from filings and lines alone."""
    stream_id = kpi_stream(institution_id)
    if purchases:
        stored = await uow.events.load(stream_id)
        return [(decode_kpi(s.event_type, s.data), s.event_id) for s in stored], len(stored)
    es = t.event_tables.event_store
    rows = await uow.session.execute(
        select(es.c.event_type, es.c.data, es.c.event_id)
        .where(es.c.stream_id == stream_id, es.c.event_type != k.PurchaseCounted.name).order_by(es.c.version)
    )
    return [(decode_kpi(r.event_type, r.data), r.event_id) for r in rows], await stream_version(uow, stream_id)


async def lock_institution_kpi(uow: UnitOfWork, institution_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{kpi_stream(institution_id)}", shared=False)


async def invoices_due_between(uow: UnitOfWork, institution_id: str | None, first: date, last: date) -> dict[str, list[kpis.InvoiceDue]]:
    """Per institution, the invoices whose payment deadline (R1) falls in [first, last], with what was paid by it,
    read from the invoice streams' events (``PaymentDeadlineSet``, ``PaymentApplied``)."""
    es = t.event_tables.event_store
    conditions = [
        es.c.event_type == PaymentDeadlineSet.name,
        es.c.data["deadline"].astext >= first.isoformat(),
        es.c.data["deadline"].astext <= last.isoformat(),
    ]
    if institution_id is not None:
        conditions.append(es.c.data["institution_id"].astext == institution_id)
    deadlines = (await uow.session.execute(select(es.c.stream_id, es.c.data).where(*conditions))).all()
    if not deadlines:
        return {}
    applied: dict[str, list[PaymentApplied]] = {}
    rows = await uow.session.execute(
        select(es.c.stream_id, es.c.data).where(es.c.event_type == PaymentApplied.name, es.c.stream_id.in_([d[0] for d in deadlines]))
    )
    for stream_id, data in rows.all():
        applied.setdefault(stream_id, []).append(PaymentApplied.model_validate(data))
    due: dict[str, list[kpis.InvoiceDue]] = {}
    for stream_id, data in deadlines:
        set_ = PaymentDeadlineSet.model_validate(data)
        paid = sum((p.amount for p in applied.get(stream_id, []) if p.paid_on <= set_.deadline), start=kpis.ZERO)
        due.setdefault(set_.institution_id, []).append(kpis.InvoiceDue(set_.invoice_id, set_.deadline, set_.amount, paid))
    return due


async def kpi_institutions(uow: UnitOfWork) -> list[str]:
    """Every institution with facts an indicator counts: purchases, contracts, or invoices."""
    ids = set(await uow.session.scalars(select(t.kpi_institutions.c.institution_id)))
    ids |= set(await uow.session.scalars(select(t.volume_institutions.c.institution_id)))
    ids |= set(await uow.session.scalars(select(t.invoices.c.institution_id).distinct()))
    return sorted(ids)


async def invoice_region(uow: UnitOfWork, institution_id: str) -> str | None:
    inv = t.invoices
    return await uow.session.scalar(
        select(inv.c.pooling_region_code).where(inv.c.institution_id == institution_id).order_by(inv.c.received_on.desc()).limit(1)
    )
