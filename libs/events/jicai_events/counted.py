"""Facts counted once per stream, answered by their key instead of by loading the stream.

A stream that counts many small facts (acceptances, purchases, returns) decides each new one by
"is it counted already?". Loading and folding the whole stream for that made every fact cost as
much as the stream's history (a hospital's 10,000th acceptance cost a hundred times its 100th).
A ``counted_facts`` row per counted fact answers the same question by primary key. The table is a
read model of the service that adds it: written by its projection in the transaction that appends
the event, emptied and replayed by the rebuild like every other read model.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, MetaData, String, Table, exists, func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.pgcopy import copy_rows
from jicai_events.unnest import unnested


def add_counted_facts(metadata: MetaData) -> Table:
    return Table(
        "counted_facts",
        metadata,
        Column("stream_id", String(200), primary_key=True),
        Column("event_type", String(200), primary_key=True, comment="the counting event"),
        Column("fact_id", String(200), primary_key=True, comment="its business id: acceptance, purchase, return or fact id"),
        comment="whether a fact is counted in a stream already, without loading the stream",
    )


@dataclass(frozen=True)
class CountedKey:
    stream_id: str
    event_type: str
    fact_id: str


async def project(session: AsyncSession, counted: Table, key: CountedKey) -> None:
    values = {"stream_id": key.stream_id, "event_type": key.event_type, "fact_id": key.fact_id}
    await session.execute(insert(counted).values(**values).on_conflict_do_nothing())


async def project_many(session: AsyncSession, counted: Table, keys: Sequence[CountedKey]) -> None:
    """``project`` for many facts in one COPY (a rebuild replays them by the hundred thousand). A fact is counted
    once per stream, decided from its key under the stream's version check, so there is no conflict to skip."""
    await copy_rows(session, counted, [{"stream_id": k.stream_id, "event_type": k.event_type, "fact_id": k.fact_id} for k in keys])


async def lookup_many(session: AsyncSession, counted: Table, event_store: Table, keys: Sequence[CountedKey]) -> tuple[set[CountedKey], dict[str, int]]:
    """``lookup`` for many facts: those counted already, and the version of each of their streams (0 if new),
    in two queries whatever their number."""
    if not keys:
        return set(), {}
    # One join on the keys unnested, not a ``tuple IN`` of hundreds of triples (a new statement for every count,
    # planned anew: a tenth of a second per batch of 300 keys).
    columns = ("stream_id", "event_type", "fact_id")
    wanted = {"stream_id": [k.stream_id for k in keys], "event_type": [k.event_type for k in keys], "fact_id": [k.fact_id for k in keys]}
    found = await session.execute(
        text(f"SELECT c.stream_id, c.event_type, c.fact_id FROM {counted.name} c JOIN ({unnested(counted, columns)}) k USING ({', '.join(columns)})"),
        wanted,
    )
    streams = sorted({k.stream_id for k in keys})
    versions = dict.fromkeys(streams, 0)
    rows = await session.execute(
        text(f"SELECT stream_id, max(version) FROM {event_store.name} WHERE stream_id = ANY(CAST(:streams AS text[])) GROUP BY stream_id"),
        {"streams": streams},
    )
    versions.update({stream_id: int(version) for stream_id, version in rows.all()})
    return {CountedKey(*row) for row in found.all()}, versions


async def lookup(session: AsyncSession, counted: Table, event_store: Table, key: CountedKey) -> tuple[bool, int]:
    """Whether the fact is counted in its stream already, and the stream's version (0 if new): what a
    count-once decision and its append need, in one round trip."""
    c, es = counted.c, event_store.c
    is_counted = exists().where(c.stream_id == key.stream_id, c.event_type == key.event_type, c.fact_id == key.fact_id)
    version = select(func.coalesce(func.max(es.version), 0)).where(es.stream_id == key.stream_id).scalar_subquery()
    row = (await session.execute(select(is_counted.label("counted"), version.label("version")))).one()
    return bool(row.counted), int(row.version)
