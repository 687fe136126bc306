"""Set-based writes: many rows in one COPY inside the caller's transaction.

A HIS push of a thousand lines appends a thousand one-event streams, a
thousand read-model rows and a thousand outbox rows. One statement (and one
round trip) per row made the push cost milliseconds per line; COPY writes
each table's rows at once. Used rather than SQLAlchemy's executemany because
COPY is PostgreSQL's fastest load path and psycopg adapts the values (dates,
decimals, JSONB, bytes) in C.

A unique violation (two writers of the same key) raises
``psycopg.errors.UniqueViolation`` and leaves the transaction unusable: the
caller retries the whole unit of work (the event store turns it into
``ConcurrencyConflict`` for ``jicai_kit.commands.execute``).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pydantic_core
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession


async def copy_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """COPY ``rows`` (all with the same keys, column names of ``table``) into ``table`` in the session's transaction.

    Columns the rows leave out take their server default, as with INSERT.
    """
    if not rows:
        return
    columns = list(rows[0])
    json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSONB)]
    connection = await session.connection()
    raw = (await connection.get_raw_connection()).driver_connection
    assert raw is not None, "the session's connection is open"
    quoted = ", ".join(f'"{c}"' for c in columns)
    # JSON goes as text (the server parses it into jsonb); a value repeated row after row (a batch's
    # metadata) is dumped once.
    last: dict[int, tuple[object, str]] = {i: (None, "null") for i in json_at}
    async with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            values = [row[c] for c in columns]
            for i in json_at:
                value, (previous, text) = values[i], last[i]
                if value is not previous:
                    text = json_text(value)
                    last[i] = (value, text)
                values[i] = text
            await copy.write_row(values)


def json_text(value: object) -> str:
    """``value`` as compact JSON text, for a JSONB column (pydantic-core's serializer: the same JSON as
    ``json.dumps``, several times faster, and a COPY of a thousand events dumps two thousand values)."""
    return pydantic_core.to_json(value).decode()
