"""Set-based statements whose text does not depend on the number of rows: one array per column, unnested.

An executemany sends one statement per row (psycopg pipelines them, but PostgreSQL still parses, plans and
executes each), and a multi-row ``VALUES`` or a ``tuple IN`` of hundreds of keys is a new statement for every
row count (compiled by SQLAlchemy, planned by PostgreSQL). ``INSERT … SELECT … FROM unnest(:a, :b, …)`` binds
one array per column: one statement, one round trip, the same text whatever the batch (psycopg prepares it once),
and no SQLAlchemy per-row binding. Used beside ``pgcopy.copy_rows`` where a write needs ``ON CONFLICT`` or
``RETURNING``, or a read joins many keys.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.engine import Result
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.pgcopy import json_text

_DIALECT = PGDialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves dialect constructors unannotated


@cache
def unnested(table: Table, columns: tuple[str, ...], alias: str = "u") -> str:
    """``SELECT <columns> FROM unnest(CAST(:<column> AS <type>[]), …) AS alias(<columns>)``: the rows bound by
    ``arrays`` (JSONB goes as text and is cast back, since a JSON array inside an array would be flattened)."""
    casts, selected = [], []
    for name in columns:
        column_type = table.c[name].type
        is_json = isinstance(column_type, JSONB)
        casts.append(f"CAST(:{name} AS {'text' if is_json else column_type.compile(dialect=_DIALECT)}[])")
        selected.append(f'{alias}."{name}"::jsonb' if is_json else f'{alias}."{name}"')
    names = ", ".join(f'"{c}"' for c in columns)
    return f"SELECT {', '.join(selected)} FROM unnest({', '.join(casts)}) AS {alias}({names})"


def arrays(table: Table, rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> dict[str, list[Any]]:
    """The parameters of ``unnested``: each column's values as one list (JSONB values dumped to text)."""
    names = list(columns if columns is not None else rows[0])
    bound: dict[str, list[Any]] = {}
    for name in names:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSONB):
            values = [None if v is None else json_text(v) for v in values]
        bound[name] = values
    return bound


@cache
def _insert_text(table: Table, columns: tuple[str, ...], conflict: tuple[str, ...] | None, update: tuple[str, ...], returning: tuple[str, ...]) -> str:
    sql = f'INSERT INTO "{table.name}" ({", ".join(f"{chr(34)}{c}{chr(34)}" for c in columns)}) {unnested(table, columns)}'
    if conflict is not None:
        target = f" ({', '.join(conflict)})" if conflict else ""
        if update:
            sql += f" ON CONFLICT{target} DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in update)}"
        else:
            sql += f" ON CONFLICT{target} DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return sql


async def insert_rows(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    on_conflict: Sequence[str] | None = None,
    update: Sequence[str] = (),
    returning: Sequence[str] = (),
) -> Result[Any] | None:
    """Insert ``rows`` (all with the same keys, column names of ``table``) in one statement.

    ``on_conflict``: the conflict target (``()``: any constraint) to do nothing on, or to update the ``update``
    columns from the row proposed; ``returning``: columns of the rows inserted (or updated). Nothing to insert:
    no statement, None."""
    if not rows:
        return None
    columns = tuple(rows[0])
    statement = _insert_text(table, columns, None if on_conflict is None else tuple(on_conflict), tuple(update), tuple(returning))
    return await session.execute(text(statement), arrays(table, rows, columns))
