"""Facts counted once per stream, answered by their key instead of by loading the stream.

A stream that counts many small facts (acceptances, purchases, returns) decides each new one by
"is it counted already?". Loading and folding the whole stream for that made every fact cost as
much as the stream's history (a hospital's 10,000th acceptance cost a hundred times its 100th).
A ``counted_facts`` row per counted fact answers the same question by primary key. The table is a
read model of the service that adds it: written by its projection in the transaction that appends
the event, emptied and replayed by the rebuild like every other read model.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, MetaData, String, Table, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


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


async def lookup(session: AsyncSession, counted: Table, event_store: Table, key: CountedKey) -> tuple[bool, int]:
    """Whether the fact is counted in its stream already, and the stream's version (0 if new): what a
    count-once decision and its append need, in one round trip."""
    c, es = counted.c, event_store.c
    is_counted = exists().where(c.stream_id == key.stream_id, c.event_type == key.event_type, c.fact_id == key.fact_id)
    version = select(func.coalesce(func.max(es.version), 0)).where(es.stream_id == key.stream_id).scalar_subquery()
    row = (await session.execute(select(is_counted.label("counted"), version.label("version")))).one()
    return bool(row.counted), int(row.version)
