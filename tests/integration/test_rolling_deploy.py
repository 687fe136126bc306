"""Rolling deploys on real Kafka and PostgreSQL: a producer already redeployed with an extra optional field
and the Distributed Tracing extension (``traceparent``) is read by the settlement service's invoice consumer
as it is today: handled, not dead-lettered. What the consumer needs and lacks still goes to dead letters."""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import select

from jicai_events import Envelope
from jicai_events.catalog import InvoiceLine, InvoiceReceived
from jicai_events.kafka import ensure_topics, make_consumer, make_producer
from jicai_events.topics import NAMESPACE_ENV, ORDERS
from jicai_settlement.adapters import tables as settlement_tables
from jicai_settlement.bootstrap import INVOICES, make_runtime
from jicai_settlement.settings import Settings

pytestmark = pytest.mark.kafka

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _invoice(invoice_id: str) -> InvoiceReceived:
    return InvoiceReceived(
        invoice_id=invoice_id, invoice_number=f"No.{invoice_id}", institution_id="H1", pooling_region_code="520100",
        distributor_id="D1", issued_on=date(2026, 3, 2), received_on=date(2026, 3, 2), amount=Decimal("120.00"),
        lines=(InvoiceLine(acceptance_id=f"H1:L-{invoice_id}", contract_id="C1", quantity=10, unit_price=Decimal("12.0000"),
                           amount=Decimal("120.00"), accepted_on=date(2026, 2, 27)),),
        latest_acceptance_on=date(2026, 2, 27),
    )


def _from_a_newer_producer(event: InvoiceReceived) -> dict[str, Any]:
    """The wire form a producer one version ahead sends: an optional field more, at two levels, and tracing."""
    wire: dict[str, Any] = json.loads(Envelope.wrap(event, time=datetime.now(UTC)).to_bytes())
    wire["data"]["payer_reference"] = "PR-2026-0042"
    wire["data"]["lines"][0]["storage_condition"] = "2-8°C"
    wire |= {"traceparent": TRACEPARENT, "tracestate": "jicai=orders"}
    return wire


async def test_a_newer_producers_extra_field_and_traceparent_are_handled_by_the_current_consumer(
    service_database: Callable[[str], str], kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ns = f"rolling-{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv(NAMESPACE_ENV, ns)
    await ensure_topics(kafka_bootstrap)

    tolerated = _from_a_newer_producer(_invoice("INV-NEW"))
    lacking = _from_a_newer_producer(_invoice("INV-BROKEN"))
    del lacking["data"]["received_on"]  # a field this consumer needs: no tolerance can invent it
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for wire in (tolerated, lacking):
            await producer.send_and_wait(ORDERS.qualified(), json.dumps(wire).encode(), key=b"H1")
    finally:
        await producer.stop()

    runtime = make_runtime(Settings(database_url=service_database("settlement"), kafka_bootstrap_servers=kafka_bootstrap,
                                    run_workers=False))
    processed = runtime.tables.processed_events
    kafka_consumer = make_consumer(kafka_bootstrap, ns + INVOICES.name, [ORDERS.qualified()])
    dead_letters = make_producer(kafka_bootstrap, f"{ns}test-dead-letters")
    await kafka_consumer.start()
    await dead_letters.start()
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.event_consumer(INVOICES, kafka_consumer, dead_letters).run(stop))
    try:
        async def both_processed() -> None:
            while True:
                async with runtime.engine.connect() as conn:
                    if len((await conn.execute(select(processed.c.event_id))).all()) == 2:
                        return
                await asyncio.sleep(0.2)

        await asyncio.wait_for(both_processed(), 60)
    finally:
        stop.set()
        await task
        await kafka_consumer.stop()
        await dead_letters.stop()
    try:
        async with runtime.engine.connect() as conn:
            outcomes = dict((await conn.execute(select(processed.c.event_id, processed.c.outcome))).all())
            invoices = (await conn.execute(select(settlement_tables.invoices.c.invoice_id, settlement_tables.invoices.c.amount))).all()
    finally:
        await runtime.stop()

    assert outcomes == {tolerated["id"]: "handled", lacking["id"]: "dead_lettered"}
    assert [(i.invoice_id, i.amount) for i in invoices] == [("INV-NEW", Decimal("120.00"))]
