"""Outbox relay and consumers on real Kafka and PostgreSQL.

A relay that dies after sending but before marking resends; the consumer
applies each event once; a poison message goes to the dead-letter topic with
its reason, is recorded (with the raw message, in the dead_letters table),
counted, and does not block the events behind it.
"""
from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.structs import ConsumerRecord
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from jicai_events.catalog import PaymentAllocation, PaymentRecorded
from jicai_events.consumer import EventConsumer
from jicai_events.envelope import Envelope
from jicai_events.kafka import ensure_topics, make_consumer, make_producer
from jicai_events.relay import OutboxRelay
from jicai_events.subscriptions import Subscription, Unprocessable
from jicai_events.tables import add_event_tables
from jicai_events.topics import DEAD_LETTERS, SETTLEMENT
from jicai_events.unit_of_work import UnitOfWork

pytestmark = pytest.mark.kafka

metadata = MetaData()
tables = add_event_tables(metadata)
applied = Table("applied", metadata, Column("payment_id", String(64), primary_key=True), Column("times", Integer, nullable=False))


def _payment(n: int) -> PaymentRecorded:
    return PaymentRecorded(
        payment_id=f"P{n}", institution_id="H1", distributor_id="D1", paid_on=date(2026, 9, 20), amount=Decimal("1.00"),
        allocations=(PaymentAllocation(invoice_id="INV-1", amount=Decimal("1.00")),),
    )


async def _count_applied(uow: UnitOfWork, envelope: Envelope, event: PaymentRecorded) -> None:
    row = (await uow.session.execute(select(applied.c.times).where(applied.c.payment_id == event.payment_id))).first()
    if row is None:
        await uow.session.execute(applied.insert().values(payment_id=event.payment_id, times=1))
    else:
        await uow.session.execute(update(applied).where(applied.c.payment_id == event.payment_id).values(times=row.times + 1))


async def _refuse_payment(uow: UnitOfWork, envelope: Envelope, event: PaymentRecorded) -> None:
    raise Unprocessable(f"cannot apply {event.payment_id}")


async def _consume_until(consumer: EventConsumer, done: asyncio.Event, stop: asyncio.Event, timeout: float = 60) -> None:
    task = asyncio.create_task(consumer.run(stop))
    try:
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        stop.set()
        await task


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_relay_crash_resends_and_the_consumer_applies_each_event_once(
    engine: AsyncEngine, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with UnitOfWork(factory, tables) as uow:
        for n in range(5):
            await uow.publish(_payment(n))

    producer = make_producer(kafka_bootstrap, "test-relay")
    await producer.start()
    try:
        relay = OutboxRelay("test", engine, tables, producer)
        # The relay dies after Kafka acknowledged the batch but before the rows were marked.
        async with engine.begin() as conn:
            await conn.execute(text("CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'crash'; END$$"))
            await conn.execute(text("CREATE TRIGGER crash BEFORE UPDATE ON outbox FOR EACH ROW EXECUTE FUNCTION refuse()"))
        with pytest.raises(Exception, match="crash"):
            await relay.publish_batch()
        async with engine.begin() as conn:
            await conn.execute(text("DROP TRIGGER crash ON outbox"))
        assert await relay.publish_batch() == 5  # everything again: at least once
        assert await relay.publish_batch() == 0
    finally:
        await producer.stop()

    consumer_name = f"{namespace}test.payments"
    done, stop = asyncio.Event(), asyncio.Event()
    kafka_consumer = make_consumer(kafka_bootstrap, consumer_name, [SETTLEMENT.qualified()])
    dlq = make_producer(kafka_bootstrap, "test-dlq")
    await kafka_consumer.start()
    await dlq.start()
    consumer = EventConsumer(
        service="test", name=consumer_name, consumer=kafka_consumer, dead_letter_producer=dlq,
        session_factory=factory, tables=tables, subscriptions=[Subscription(PaymentRecorded, _count_applied)],
    )

    async def watch() -> None:
        while _metric("jicai_events_consumed_total", service="test", consumer=consumer_name,
                      type=PaymentRecorded.type_name(), outcome="duplicate") < 5:
            await asyncio.sleep(0.2)
        done.set()

    watcher = asyncio.create_task(watch())
    try:
        await _consume_until(consumer, done, stop)
    finally:
        watcher.cancel()
        await kafka_consumer.stop()
        await dlq.stop()
    async with engine.connect() as conn:
        counts = dict((await conn.execute(select(applied.c.payment_id, applied.c.times))).all())
    assert counts == {f"P{n}": 1 for n in range(5)}


async def test_a_batch_interrupted_midway_is_sent_again_whole_and_in_order(
    engine: AsyncEngine, kafka_bootstrap: str, namespace: str
) -> None:
    """Kafka refuses the third of five rows after the first two went out: none is marked, the next batch sends all
    five again in id order (the first two twice: at least once), and then none is left."""
    await ensure_topics(kafka_bootstrap)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    async with UnitOfWork(factory, tables) as uow:
        sent = [await uow.publish(_payment(n)) for n in range(5)]
    outbox = tables.outbox
    async with engine.begin() as conn:
        third = (await conn.execute(select(outbox.c.id, outbox.c.payload).where(outbox.c.event_id == sent[2].id))).one()
        # Larger than the producer's max_request_size: refused when sent, after the rows before it were.
        await conn.execute(update(outbox).where(outbox.c.id == third.id).values(payload=b"x" * 2_000_000))

    producer = make_producer(kafka_bootstrap, "test-relay")
    await producer.start()
    try:
        relay = OutboxRelay("test", engine, tables, producer)
        with pytest.raises(MessageSizeTooLargeError):
            await relay.publish_batch()
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_not(None)))).scalar() == 0
            await conn.execute(update(outbox).where(outbox.c.id == third.id).values(payload=third.payload))
            await conn.commit()
        assert await relay.publish_batch() == 5
        assert await relay.publish_batch() == 0
    finally:
        await producer.stop()

    ids = [Envelope.from_bytes(r.value).id for r in await _read(kafka_bootstrap, SETTLEMENT.qualified(), 7)]
    expected = [e.id for e in sent]
    assert ids == expected[:2] + expected  # one key, one partition: the first two, then the whole batch again


async def test_an_idle_relay_publishes_what_a_commit_writes_without_waiting_for_its_next_poll(
    engine: AsyncEngine, kafka_bootstrap: str, namespace: str
) -> None:
    """An idle relay waits for a notification of the outbox's trigger, not for its next poll: here its polls are an
    hour apart, and the event a unit of work commits (on another connection, as another process would) still goes out."""
    await ensure_topics(kafka_bootstrap)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    producer = make_producer(kafka_bootstrap, "test-relay")
    await producer.start()
    stop = asyncio.Event()
    relay = OutboxRelay("relay-woken", engine, tables, producer, safety_poll_s=3600)
    running = asyncio.create_task(relay.run(stop))
    try:
        while REGISTRY.get_sample_value("jicai_outbox_backlog", {"service": "relay-woken"}) is None:
            await asyncio.sleep(0.05)  # until its first poll found the outbox empty: now it waits an hour for the next
        async with UnitOfWork(factory, tables) as uow:
            sent = await uow.publish(_payment(1))
        ids = [Envelope.from_bytes(r.value).id for r in await asyncio.wait_for(_read(kafka_bootstrap, SETTLEMENT.qualified(), 1), 60)]
        assert ids == [sent.id]
    finally:
        stop.set()
        await running
        await producer.stop()


async def _read(bootstrap: str, topic: str, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    """The first ``count`` records of ``topic`` (read without a group), checking none follows them."""
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    await reader.start()
    try:
        records: list[ConsumerRecord[bytes, bytes]] = []
        while len(records) < count:
            batch = await reader.getmany(timeout_ms=5000)
            assert batch, f"{topic} holds {len(records)} records, not {count}"
            records += [r for rs in batch.values() for r in rs]
        assert not await reader.getmany(timeout_ms=500)
        return records
    finally:
        await reader.stop()


async def test_poison_messages_go_to_dead_letters_with_the_reason_and_do_not_block(
    engine: AsyncEngine, kafka_bootstrap: str, namespace: str
) -> None:
    await ensure_topics(kafka_bootstrap)
    factory = async_sessionmaker(engine, expire_on_commit=False)
    good = Envelope.wrap(_payment(7), time=datetime.now(UTC))
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(SETTLEMENT.qualified(), b"{not json", key=b"H1")
        await producer.send_and_wait(SETTLEMENT.qualified(), good.to_bytes(), key=b"H1")
    finally:
        await producer.stop()

    consumer_name = f"{namespace}test.poison"
    kafka_consumer = make_consumer(kafka_bootstrap, consumer_name, [SETTLEMENT.qualified()])
    dlq = make_producer(kafka_bootstrap, "test-dlq")
    await kafka_consumer.start()
    await dlq.start()
    consumer = EventConsumer(
        service="test", name=consumer_name, consumer=kafka_consumer, dead_letter_producer=dlq,
        session_factory=factory, tables=tables, subscriptions=[Subscription(PaymentRecorded, _refuse_payment)],
    )
    done, stop = asyncio.Event(), asyncio.Event()

    async def watch() -> None:
        while _metric("jicai_dead_letters_total", service="test", consumer=consumer_name, type=PaymentRecorded.type_name()) < 1:
            await asyncio.sleep(0.2)
        done.set()

    watcher = asyncio.create_task(watch())
    try:
        await _consume_until(consumer, done, stop)
    finally:
        watcher.cancel()
        await kafka_consumer.stop()
        await dlq.stop()

    assert _metric("jicai_dead_letters_total", service="test", consumer=consumer_name, type="unparseable") == 1
    async with engine.connect() as conn:
        rows = (await conn.execute(select(tables.processed_events.c.event_type, tables.processed_events.c.outcome,
                                          tables.processed_events.c.reason))).all()
    by_type = {r.event_type: r for r in rows}
    assert by_type[PaymentRecorded.type_name()].outcome == "dead_lettered"
    assert "cannot apply P7" in by_type[PaymentRecorded.type_name()].reason
    assert by_type["unparseable"].outcome == "dead_lettered"
    async with engine.connect() as conn:
        kept = {r.event_type: r for r in await conn.execute(select(tables.dead_letters))}
    assert bytes(kept["unparseable"].message) == b"{not json"
    assert Envelope.from_bytes(bytes(kept[PaymentRecorded.type_name()].message)).id == good.id
    assert {(r.topic, r.status, r._mapping["count"]) for r in kept.values()} == {(SETTLEMENT.qualified(), "dead", 1)}

    reader = AIOKafkaConsumer(DEAD_LETTERS.qualified(), bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest",
                              group_id=f"{namespace}reader")
    await reader.start()
    try:
        records: list[ConsumerRecord[bytes, bytes]] = []
        while len(records) < 2:
            batch = await reader.getmany(timeout_ms=5000)
            assert batch, "dead letters did not arrive"
            records += [r for rs in batch.values() for r in rs]
    finally:
        await reader.stop()
    reasons = [dict(r.headers)["x-dead-letter-reason"].decode() for r in records]
    assert any("not a CloudEvents envelope" in r for r in reasons)
    assert any("cannot apply P7" in r for r in reasons)
    assert {dict(r.headers)["x-original-topic"].decode() for r in records} == {SETTLEMENT.qualified()}
