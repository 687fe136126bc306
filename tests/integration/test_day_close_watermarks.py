"""A day closes only when its facts are in; rebalances lose and dead-letter nothing. Real Kafka and PostgreSQL.

The consumer here decides by business day as alerts does: it reads the
settlement topic and the clock. A ``DayClosed`` waits until the settlement
service's watermark marker has arrived on every partition; the facts the
service recorded before the marker are applied before the day is decided.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Column, Date, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from jicai_events import watermarks
from jicai_events.catalog import DayClosed, PaymentAllocation, PaymentRecorded
from jicai_events.consumer import EventConsumer
from jicai_events.envelope import Envelope
from jicai_events.kafka import ensure_topics, make_consumer, make_producer
from jicai_events.relay import OutboxRelay
from jicai_events.subscriptions import Subscription
from jicai_events.tables import add_event_tables
from jicai_events.topics import CLOCK, SETTLEMENT
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.clock import day_closed_envelope, publish_day_closed

pytestmark = pytest.mark.kafka

metadata = MetaData()
tables = add_event_tables(metadata)
applied = Table("applied", metadata, Column("payment_id", String(64), primary_key=True), Column("times", Integer, nullable=False))
decided = Table("decided", metadata, Column("business_date", Date, primary_key=True), Column("payments_seen", Integer, nullable=False))
DAY = date(2026, 10, 9)


def _payment(n: int) -> PaymentRecorded:
    return PaymentRecorded(
        payment_id=f"P{n}", institution_id=f"H{n}", distributor_id="D1", paid_on=DAY, amount=Decimal("1.00"),
        allocations=(PaymentAllocation(invoice_id=f"INV-{n}", amount=Decimal("1.00")),),
    )


async def _apply(uow: UnitOfWork, envelope: Envelope, event: PaymentRecorded) -> None:
    await asyncio.sleep(0.01)  # a handler that takes a moment, so rebalances land mid-batch
    row = (await uow.session.execute(select(applied.c.times).where(applied.c.payment_id == event.payment_id))).first()
    if row is None:
        await uow.session.execute(applied.insert().values(payment_id=event.payment_id, times=1))
    else:
        await uow.session.execute(applied.update().where(applied.c.payment_id == event.payment_id).values(times=row.times + 1))


async def _decide_day(uow: UnitOfWork, envelope: Envelope, event: DayClosed) -> None:
    seen = (await uow.session.execute(select(func.count()).select_from(applied))).scalar_one()
    await uow.session.execute(decided.insert().values(business_date=event.business_date, payments_seen=seen))


def _consumer(engine: AsyncEngine, bootstrap: str, name: str, topics: list[str]) -> EventConsumer:
    dlq = make_producer(bootstrap, f"{name}-dlq")
    consumer = EventConsumer(
        service="test", name=name, consumer=None, dead_letter_producer=dlq,
        session_factory=async_sessionmaker(engine, expire_on_commit=False), tables=tables,
        subscriptions=[Subscription(PaymentRecorded, _apply), Subscription(DayClosed, _decide_day)],
    )
    consumer.bind(make_consumer(bootstrap, name, topics, consumer.rebalance_listener()))
    return consumer


async def _run(consumer: EventConsumer, stop: asyncio.Event) -> None:
    assert consumer._consumer is not None and consumer._dlq is not None
    await consumer._consumer.start()
    await consumer._dlq.start()
    try:
        await consumer.run(stop)
    finally:
        await consumer._consumer.stop()
        await consumer._dlq.stop()


async def _until(probe, what: str, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not await probe():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def _scalar(engine: AsyncEngine, stmt):  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return (await conn.execute(stmt)).scalar_one_or_none()


async def test_a_day_close_waits_for_every_partitions_marker_and_sees_the_facts_before_it(
    engine: AsyncEngine, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    producer = make_producer(kafka_bootstrap, "test-relay")
    await producer.start()
    relay = OutboxRelay("settlement", engine, tables, producer)
    name = f"{namespace}test.rules"
    consumer = _consumer(engine, kafka_bootstrap, name, [SETTLEMENT.qualified(), CLOCK.qualified()])
    stop = asyncio.Event()
    task = asyncio.create_task(_run(consumer, stop))
    try:
        # The day closes before settlement has passed on what it recorded on that day.
        await publish_day_closed(kafka_bootstrap, [DAY])
        d = tables.day_closes
        await _until(lambda: _scalar(engine, select(func.count()).select_from(d).where(d.c.consumer == name)), "the close request")
        async with UnitOfWork(factory, tables) as uow:
            await uow.publish(_payment(1))
        await relay.publish_batch()
        await _until(lambda: _scalar(engine, select(func.count()).select_from(applied)), "the first payment")
        assert await _scalar(engine, select(func.count()).select_from(decided)) == 0, "decided before settlement's marker"
        assert await _scalar(engine, select(d.c.decided_at).where(d.c.consumer == name)) is None

        # Settlement learns of the close: a payment it recorded first, then its marker on every partition.
        async with UnitOfWork(factory, tables) as uow:
            await uow.publish(_payment(2))
        async with UnitOfWork(factory, tables) as uow:
            day_closed = day_closed_envelope(DAY)
            await watermarks.publish_markers(uow, [(day_closed, DayClosed(business_date=DAY))], service="settlement", consumer="settlement.day-close")
        await relay.publish_batch()
        await _until(lambda: _scalar(engine, select(decided.c.payments_seen)), "the day's decision")
        assert await _scalar(engine, select(decided.c.payments_seen)) == 2
        w = tables.clock_watermarks
        marks = await _scalar(engine, select(func.count()).select_from(w).where(w.c.consumer == name, w.c.closed_through == DAY))
        assert marks == SETTLEMENT.partitions
    finally:
        stop.set()
        await task
        await producer.stop()


async def test_an_instance_joining_and_leaving_mid_flow_applies_each_event_once_and_dead_letters_nothing(
    engine: AsyncEngine, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    payments = 300
    async with UnitOfWork(factory, tables) as uow:
        for n in range(payments):
            await uow.publish(_payment(n))
    producer = make_producer(kafka_bootstrap, "test-relay")
    await producer.start()
    try:
        await OutboxRelay("settlement", engine, tables, producer).publish_batch()
    finally:
        await producer.stop()

    name = f"{namespace}test.rules"
    first, second = (_consumer(engine, kafka_bootstrap, name, [SETTLEMENT.qualified()]) for _ in range(2))
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    count = select(func.count()).select_from(applied)
    running = [asyncio.create_task(_run(first, stop_first))]
    try:
        await _until(lambda: _count_at_least(engine, count, 30), "the first instance to start")
        running.append(asyncio.create_task(_run(second, stop_second)))  # joins: partitions move mid-batch
        await _until(lambda: _count_at_least(engine, count, 150), "both instances to work")
        stop_second.set()  # leaves: its partitions move back
        await running.pop()
        await _until(lambda: _count_at_least(engine, count, payments), "every payment")
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.gather(*running)

    assert await _scalar(engine, select(func.max(applied.c.times))) == 1
    p = tables.processed_events
    assert await _scalar(engine, select(func.count()).select_from(p).where(p.c.outcome != "handled")) == 0
    assert (REGISTRY.get_sample_value("jicai_dead_letters_total", {"service": "test", "consumer": name,
                                                                   "type": PaymentRecorded.type_name()}) or 0) == 0


async def _count_at_least(engine: AsyncEngine, stmt, n: int) -> bool:  # type: ignore[no-untyped-def]
    return (await _scalar(engine, stmt) or 0) >= n



RANGE = [date(2031, 3, d) for d in range(1, 6)]
"""Days no other test of the module closes (the clock topic is shared; each test reads it from the start)."""


async def test_a_range_of_days_closed_at_once_is_marked_once_per_day_in_day_order(
    engine: AsyncEngine, kafka_bootstrap: str, namespace: str
) -> None:
    """A service's marker consumer reading several closes in one poll (a scheduler catching up) marks each day once, on
    every partition, in day order, and decides them all; the same closes again mark nothing more."""
    await ensure_topics(kafka_bootstrap)
    name = f"{namespace}settlement.day-close"

    async def mark_all(uow: UnitOfWork, closes: Sequence[tuple[Envelope, DayClosed]]) -> None:
        await watermarks.publish_markers(uow, closes, service="settlement", consumer=name)

    async def mark(uow: UnitOfWork, envelope: Envelope, event: DayClosed) -> None:
        await mark_all(uow, [(envelope, event)])

    consumer = EventConsumer(
        service="test", name=name, consumer=None, dead_letter_producer=make_producer(kafka_bootstrap, f"{name}-dlq"),
        session_factory=async_sessionmaker(engine, expire_on_commit=False), tables=tables,
        subscriptions=[Subscription(DayClosed, mark, batch=mark_all)],
    )
    consumer.bind(make_consumer(kafka_bootstrap, name, [CLOCK.qualified()], consumer.rebalance_listener()))
    ids = {day_closed_envelope(day).id: day for day in RANGE}
    o, d = tables.outbox, tables.day_closes

    async def markers() -> list[date]:
        async with engine.connect() as conn:
            rows = (await conn.execute(select(o.c.payload).where(o.c.all_partitions).order_by(o.c.id))).scalars().all()
        closed = [Envelope.from_bytes(bytes(p)).data.get("day_closed_event_id") for p in rows]
        return [ids[i] for i in closed if i in ids]

    async def decided_days() -> int:
        count = select(func.count()).select_from(d).where(d.c.consumer == name, d.c.business_date.in_(RANGE), d.c.decided_at.is_not(None))
        return int(await _scalar(engine, count) or 0)

    stop = asyncio.Event()
    task = asyncio.create_task(_run(consumer, stop))
    try:
        await publish_day_closed(kafka_bootstrap, RANGE)
        await _until(lambda: _equal(decided_days, len(RANGE)), "every day of the range decided")
        assert await markers() == RANGE, "one marker per day, in day order"
        await publish_day_closed(kafka_bootstrap, RANGE)  # the same closes again (a scheduler's retry)
        await publish_day_closed(kafka_bootstrap, [date(2031, 3, 6)])  # and a later one, read after them
        await _until(lambda: _scalar(engine, select(func.count()).select_from(d).where(d.c.consumer == name, d.c.business_date == date(2031, 3, 6))),
                     "the later close")
        await _until(lambda: _equal(decided_days, len(RANGE)), "the range still decided")
        assert await markers() == RANGE, "the repeated closes marked nothing more"
    finally:
        stop.set()
        await task


async def _equal(probe, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return bool(await probe() == expected)
