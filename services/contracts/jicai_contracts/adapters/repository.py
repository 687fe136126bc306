"""Event-sourced persistence and read queries of the contracts service."""
from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Table, and_, cast, func, select

from jicai_contracts.adapters import tables as t
from jicai_contracts.adapters.outgoing import translate
from jicai_contracts.adapters.projections import BULK, apply
from jicai_contracts.domain.events import ContractsEvent, codec
from jicai_events.streams import StreamWriter
from jicai_events.unit_of_work import UnitOfWork

streams: StreamWriter[ContractsEvent] = StreamWriter(codec, apply, translate, bulk=BULK)


async def find(uow: UnitOfWork, table: Table, key: str) -> dict[str, Any] | None:
    pk = list(table.primary_key.columns)[0]
    row = (await uow.session.execute(select(table).where(pk == key))).mappings().first()
    return dict(row) if row else None


async def list_rows(uow: UnitOfWork, table: Table, **filters: str) -> list[dict[str, Any]]:
    query = select(table)
    for column, value in filters.items():
        query = query.where(table.c[column] == value)
    rows = (await uow.session.execute(query.order_by(*table.primary_key.columns))).mappings().all()
    return [dict(r) for r in rows]


async def agreements(uow: UnitOfWork, **filters: str) -> list[dict[str, Any]]:
    """Yearly agreements with what was accepted and returned in each agreement year (by ``accepted_on``)."""
    a, x = t.yearly_agreements, t.acceptances
    counted = and_(x.c.contract_id == a.c.contract_id, x.c.accepted_on.between(a.c.year_start, a.c.year_end))
    query = select(
        a,
        cast(func.coalesce(func.sum(x.c.accepted_quantity), 0), BigInteger).label("accepted_quantity"),  # sum(bigint) is numeric
        cast(func.coalesce(func.sum(x.c.returned_quantity), 0), BigInteger).label("returned_quantity"),
    ).select_from(a.outerjoin(x, counted)).group_by(a.c.agreement_id)
    for column, value in filters.items():
        query = query.where(a.c[column] == value)
    rows = (await uow.session.execute(query.order_by(a.c.agreement_id))).mappings().all()
    return [dict(r) for r in rows]


__all__ = ["agreements", "find", "list_rows", "streams", "t"]
