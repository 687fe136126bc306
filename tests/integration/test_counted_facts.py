"""Facts counted once, answered by their key (``jicai_events.counted``), on real PostgreSQL.

What a count-once decision needs from one lookup: which of its facts a stream counted already (the same fact
id under another counting event, or in another stream, is not that fact), and each stream's version to append
after (its last, however long its history; 0 for a stream never written), for one key or many at once.
"""
from __future__ import annotations

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from jicai_events import counted
from jicai_events.counted import CountedKey
from jicai_events.store import EventStore
from jicai_events.tables import add_event_tables

metadata = MetaData()
tables = add_event_tables(metadata)
counted_facts = counted.add_counted_facts(metadata)

HISTORY = 60
"""Events of the hospital's stream: its version is the last of them, not the first or a count of its facts."""


async def _record(session: AsyncSession, key: CountedKey, version: int) -> None:
    """Append the counting event after ``version`` and count its fact, as a service's stream writer does."""
    await EventStore(session, tables).append(key.stream_id, "kpi", version, [(key.event_type, {"fact_id": key.fact_id})])
    await counted.project(session, counted_facts, key)


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncSession:
    """A hospital whose ``kpi-H001`` stream counted purchases P1…P60, and a second hospital's stream with one."""
    async with AsyncSession(engine) as s, s.begin():
        for n in range(1, HISTORY + 1):
            await _record(s, CountedKey("kpi-H001", "PurchaseCounted", f"P{n}"), n - 1)
        await _record(s, CountedKey("kpi-H002", "PurchaseCounted", "P1"), 0)
    return AsyncSession(engine)


async def test_many_keys_answer_which_facts_are_counted_and_each_stream_version(session: AsyncSession) -> None:
    keys = [
        CountedKey("kpi-H001", "PurchaseCounted", "P7"),  # counted early in a long history
        CountedKey("kpi-H001", "PurchaseCounted", f"P{HISTORY}"),  # counted last
        CountedKey("kpi-H001", "PurchaseCounted", "P61"),  # not yet
        CountedKey("kpi-H001", "ReturnCounted", "P7"),  # the same id counted by another event
        CountedKey("kpi-H002", "PurchaseCounted", "P1"),
        CountedKey("kpi-H002", "PurchaseCounted", "P7"),  # counted in another hospital's stream only
        CountedKey("kpi-H003", "PurchaseCounted", "P1"),  # a stream never written
        CountedKey("kpi-H001", "PurchaseCounted", "P7"),  # asked twice in one batch
    ]
    async with session:
        already, versions = await counted.lookup_many(session, counted_facts, tables.event_store, keys)

    assert already == {keys[0], keys[1], keys[4]}
    assert versions == {"kpi-H001": HISTORY, "kpi-H002": 1, "kpi-H003": 0}


async def test_one_key_answers_as_many_do(session: AsyncSession) -> None:
    async with session:
        assert await counted.lookup(session, counted_facts, tables.event_store, CountedKey("kpi-H001", "PurchaseCounted", "P7")) == (True, HISTORY)
        assert await counted.lookup(session, counted_facts, tables.event_store, CountedKey("kpi-H001", "PurchaseCounted", "P61")) == (False, HISTORY)
        assert await counted.lookup(session, counted_facts, tables.event_store, CountedKey("kpi-H003", "PurchaseCounted", "P1")) == (False, 0)
        assert await counted.lookup_many(session, counted_facts, tables.event_store, []) == (set(), {})


async def test_a_fact_counted_in_the_same_transaction_is_counted_and_moves_the_version(session: AsyncSession) -> None:
    key = CountedKey("kpi-H001", "PurchaseCounted", "P61")
    async with session, session.begin():
        await _record(session, key, HISTORY)
        assert await counted.lookup(session, counted_facts, tables.event_store, key) == (True, HISTORY + 1)
