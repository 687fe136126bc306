"""Set-based writes: many rows in one statement inside the caller's transaction.

A HIS push of a thousand lines appends a thousand one-event streams, a
thousand read-model rows and a thousand outbox rows. One statement (and one
round trip) per row made the push cost milliseconds per line; COPY writes
each table's rows at once. Used rather than SQLAlchemy's executemany because
COPY is PostgreSQL's fastest load path and psycopg adapts the values (dates,
decimals, JSONB, bytes) in C.

A few rows (a single-line push: three tables, one row each) go as one multi-row
INSERT instead: COPY takes two round trips (the server answers ``COPY FROM
STDIN`` before the data goes) and is never prepared, an INSERT one, prepared by
psycopg after its fifth use. ``INSERT_AT_MOST`` is where COPY becomes the
cheaper of the two (measured in bench/RESULTS.md); the rows, defaults and
errors are the same either way.

A unique violation (two writers of the same key) raises
``psycopg.errors.UniqueViolation`` and leaves the transaction unusable: the
caller retries the whole unit of work (the event store turns it into
``ConcurrencyConflict`` for ``jicai_kit.commands.execute``).
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pydantic_core
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

INSERT_AT_MOST = 8
"""Rows up to which ``copy_rows`` sends one multi-row INSERT rather than a COPY."""


async def copy_rows(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` (all with the same keys, column names of ``table``) into ``table`` in the session's transaction:
    one COPY, or for at most ``INSERT_AT_MOST`` rows one INSERT.

    Columns the rows leave out take their server default, as with INSERT.
    """
    if not rows:
        return
    columns = list(rows[0])
    json_at = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSONB)]
    raw = await _driver(session)
    quoted = ", ".join(f'"{c}"' for c in columns)
    # JSON goes as text (the server parses it into jsonb); a value repeated row after row (a batch's
    # metadata) is dumped once.
    last: dict[int, tuple[object, str]] = {i: (None, "null") for i in json_at}

    def values(row: Mapping[str, Any]) -> list[Any]:
        out = [row[c] for c in columns]
        for i in json_at:
            value, (previous, text) = out[i], last[i]
            if isinstance(value, JsonText):
                text = value
            elif value is not previous:
                text = json_text(value)
                last[i] = (value, text)
            out[i] = text
        return out

    async with raw.cursor() as cursor:
        if len(rows) <= INSERT_AT_MOST:
            # Python strings go as parameters of unknown type, so the server reads them as the column's type (jsonb,
            # date), as COPY does.
            one = "(" + ", ".join(["%s"] * len(columns)) + ")"
            await cursor.execute(
                f'INSERT INTO "{table.name}" ({quoted}) VALUES {", ".join([one] * len(rows))}',
                [value for row in rows for value in values(row)],
            )
            return
        async with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                await copy.write_row(values(row))


class JsonText(str):
    """A JSONB column's value already dumped as JSON text (a model's own ``model_dump_json``): sent as it is."""

    __slots__ = ()


@asynccontextmanager
async def pipelined(session: AsyncSession, rows: int) -> AsyncIterator[None]:
    """The statements sent inside go without waiting for each answer (psycopg's pipeline mode) when each table gets at
    most ``rows`` ≤ ``INSERT_AT_MOST`` rows: a single-line push's event store, read model and outbox INSERTs in one round
    trip instead of three. A COPY cannot run in a pipeline, so more rows go as before. A statement's error (a lost
    race's ``UniqueViolation``) is raised by a later statement of the block or when it ends."""
    if rows > INSERT_AT_MOST:
        yield
        return
    async with (await _driver(session)).pipeline():
        yield


async def _driver(session: AsyncSession) -> psycopg.AsyncConnection[Any]:
    """The psycopg connection under the session's."""
    connection = await session.connection()
    raw: psycopg.AsyncConnection[Any] | None = (await connection.get_raw_connection()).driver_connection
    assert raw is not None, "the session's connection is open"
    return raw


def json_text(value: object) -> str:
    """``value`` as compact JSON text, for a JSONB column (pydantic-core's serializer: the same JSON as
    ``json.dumps``, several times faster, and a COPY of a thousand events dumps two thousand values)."""
    return pydantic_core.to_json(value).decode()
