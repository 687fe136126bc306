"""Event-sourced persistence and read queries of the settlement service."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from jicai_events import counted
from jicai_events.counted import CountedKey
from jicai_events.streams import StreamWriter
from jicai_events.unit_of_work import UnitOfWork
from jicai_settlement.adapters import tables as t
from jicai_settlement.adapters.outgoing import translate
from jicai_settlement.adapters.projections import apply, invoices_recorded
from jicai_settlement.domain.events import AcceptanceNoted, InvoiceRecorded, ReturnNoted, SettlementEvent, codec


def counted_key(event: AcceptanceNoted | ReturnNoted) -> CountedKey:
    """A contract stream counts each acceptance and return once (``jicai_events.counted``)."""
    fact_id = event.acceptance_id if isinstance(event, AcceptanceNoted) else event.return_id
    return CountedKey(contract_stream(event.contract_id), event.name, fact_id)


async def _project(session: AsyncSession, event: SettlementEvent) -> None:
    if isinstance(event, AcceptanceNoted | ReturnNoted):
        await counted.project(session, t.counted_facts, counted_key(event))
    await apply(session, event)


async def _count_many(session: AsyncSession, events: Sequence[SettlementEvent]) -> None:
    """``_project`` of many counted facts (a rebuild replays a contract's acceptances by the thousand): one statement."""
    await counted.project_many(session, t.counted_facts, [counted_key(e) for e in events if isinstance(e, AcceptanceNoted | ReturnNoted)])


streams: StreamWriter[SettlementEvent] = StreamWriter(codec, _project, translate, bulk={
    AcceptanceNoted: _count_many, ReturnNoted: _count_many, InvoiceRecorded: invoices_recorded,
})


async def count_once(uow: UnitOfWork, fact: AcceptanceNoted | ReturnNoted) -> bool:
    """Record the fact in its contract stream unless counted there already, from its key alone (never loading
    the stream: a contract's 10,000th acceptance costs its 100th's); whether it was recorded."""
    key = counted_key(fact)
    is_counted, version = await counted.lookup(uow.session, t.counted_facts, t.event_tables.event_store, key)
    if is_counted:
        return False
    await streams.append(uow, key.stream_id, "contract", version, [fact])
    return True


def invoice_stream(invoice_id: str) -> str:
    return f"invoice-{invoice_id}"


def payment_stream(payment_id: str) -> str:
    return f"payment-{payment_id}"


def institution_stream(institution_id: str) -> str:
    return f"institution-settlement-{institution_id}"


def contract_stream(contract_id: str) -> str:
    return f"contract-{contract_id}"


def prepayment_stream(schedule_id: str) -> str:
    return f"prepayment-{schedule_id}"


async def find(uow: UnitOfWork, table: Table, key: str) -> dict[str, Any] | None:
    pk = list(table.primary_key.columns)[0]
    row = (await uow.session.execute(select(table).where(pk == key))).mappings().first()
    return dict(row) if row else None


async def list_rows(uow: UnitOfWork, table: Table, *order_by: Any, **filters: str) -> list[dict[str, Any]]:
    query = select(table)
    for column, value in filters.items():
        query = query.where(table.c[column] == value)
    rows = (await uow.session.execute(query.order_by(*(order_by or table.primary_key.columns)))).mappings().all()
    return [dict(r) for r in rows]


_W, _S = t.withholds.c, t.suspensions.c
# Built once: constructing the two statements per request was a sixth of a status read.
_WITHHOLDS = (
    select(_W.decision_id, _W.invoice_id, _W.warned_on, _W.withheld_from, _W.outstanding_amount, _W.profile_id, _W.profile_version,
           _W.released_on, _W.release_decision_id)
    .where(_W.institution_id == bindparam("institution_id")).order_by(_W.withheld_from, _W.decision_id)
)
_SUSPENSIONS = (
    select(_S.decision_id, _S.period_end, _S.ratio, _S.suspend_below, _S.suspended_from, _S.profile_id, _S.profile_version, _S.resumed_on,
           _S.resume_decision_id, _S.resume_reason)
    .where(_S.institution_id == bindparam("institution_id")).order_by(_S.suspended_from, _S.decision_id)
)


async def settlement_status_rows(connection: AsyncConnection, institution_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The institution's withholds (by ``withheld_from``) and suspensions (by ``suspended_from``), the columns the status shows,
    on a Core connection (``jicai_kit.commands.read_rows``)."""
    params = {"institution_id": institution_id}
    withholds = await connection.execute(_WITHHOLDS, params)
    suspensions = await connection.execute(_SUSPENSIONS, params)
    return [dict(r) for r in withholds.mappings()], [dict(r) for r in suspensions.mappings()]


async def payment_with_allocations(uow: UnitOfWork, payment_id: str) -> dict[str, Any] | None:
    payment = await find(uow, t.payments, payment_id)
    if payment is None:
        return None
    payment["allocations"] = await list_rows(uow, t.payment_allocations, t.payment_allocations.c.position, payment_id=payment_id)
    return payment


async def payments_of(uow: UnitOfWork, institution_id: str) -> list[dict[str, Any]]:
    rows = await list_rows(uow, t.payments, t.payments.c.paid_on, t.payments.c.payment_id, institution_id=institution_id)
    allocations = t.payment_allocations
    found = (
        await uow.session.execute(
            select(allocations)
            .join(t.payments, t.payments.c.payment_id == allocations.c.payment_id)
            .where(t.payments.c.institution_id == institution_id)
            .order_by(allocations.c.payment_id, allocations.c.position)
        )
    ).mappings().all()
    by_payment: dict[str, list[dict[str, Any]]] = {}
    for a in found:
        by_payment.setdefault(a["payment_id"], []).append(dict(a))
    return [{**r, "allocations": by_payment.get(r["payment_id"], [])} for r in rows]


async def overpaid_invoices(uow: UnitOfWork, institution_id: str) -> list[dict[str, Any]]:
    """The institution's invoices paid beyond what they ask for after 红冲, with their payments and credit notes."""
    i = t.invoices
    query = select(i.c.invoice_id).where(i.c.institution_id == institution_id, i.c.paid > i.c.amount_due).order_by(i.c.invoice_id)
    ids = (await uow.session.execute(query)).scalars().all()
    return [row for invoice_id in ids if (row := await invoice_with_payments(uow, invoice_id)) is not None]


async def invoice_with_payments(uow: UnitOfWork, invoice_id: str) -> dict[str, Any] | None:
    invoice = await find(uow, t.invoices, invoice_id)
    if invoice is None:
        return None
    invoice["credit_notes"] = await list_rows(
        uow, t.invoice_credits, t.invoice_credits.c.received_on, t.invoice_credits.c.credit_note_id, invoice_id=invoice_id
    )
    a, p = t.payment_allocations, t.payments
    rows = (
        await uow.session.execute(
            select(a.c.payment_id, p.c.paid_on, a.c.amount)
            .join(p, p.c.payment_id == a.c.payment_id)
            .where(a.c.invoice_id == invoice_id)
            .order_by(p.c.paid_on, a.c.payment_id)
        )
    ).mappings().all()
    invoice["payments"] = [dict(r) for r in rows]
    return invoice


__all__ = ["find", "list_rows", "streams", "t"]


async def institution_known(uow: UnitOfWork, institution_id: str) -> tuple[bool, str | None]:
    """Whether settlement has a fact of the institution (an invoice, a yearly agreement, a withhold or suspension), and its
    pooling region when one of them names it."""
    i = t.invoices
    query = select(i.c.pooling_region_code).where(i.c.institution_id == institution_id).order_by(i.c.pooling_region_code.is_(None)).limit(1)
    found = (await uow.session.execute(query)).first()
    if found is not None and found[0] is not None:
        return True, str(found[0])
    # Its own streams: institution-settlement-{id} and its prepayment streams (AgreementNoted names the region), found
    # by exact id through the agreements' read model: an index probe each, where a LIKE on the stream ids read the
    # whole event store (its collation's index cannot serve a prefix) and matched "H1-2"'s streams for "H1".
    es, agreements = t.event_tables.event_store, t.prepayment_agreements
    prepayment_streams = select(literal(prepayment_stream("")) + agreements.c.schedule_id).where(agreements.c.institution_id == institution_id)
    region = es.c.data["pooling_region_code"].astext
    query = (
        select(region)
        .where(or_(es.c.stream_id == institution_stream(institution_id), es.c.stream_id.in_(prepayment_streams)))
        .order_by(region.is_(None))
        .limit(1)
    )
    event = (await uow.session.execute(query)).first()
    if event is None:
        return found is not None, None
    return True, event[0]
