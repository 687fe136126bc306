"""Row (b): alerts consuming a backlog of orders events from real Kafka, against a raw aiokafka consumer.

Each run gets its own topic namespace: ``events`` orders events (half
``DeliveryAccepted``, half ``InvoiceReceived``, 300 institutions) are
produced first, then the alerts service starts as deployed (``jicai-serve
alerts`` with its consumers) on a fresh database and works the backlog off;
its rate counts from its first handled event to its last, read from its
public ``/metrics``. The baseline consumes the same topic with a bare
``AIOKafkaConsumer`` and parses every value as JSON.

    .venv/bin/python -m bench.alerts_consume [--events 6000] [--runs 1]
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

import httpx
import typer
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from bench.alerts_history import _invoice
from bench.common import Row, kafka_bootstrap, postgres_base_url, repeat, run_and_print, serve
from jicai_events import Envelope
from jicai_events.catalog import DeliveryAccepted
from jicai_events.kafka import ensure_topics, make_producer
from jicai_events.topics import ORDERS, topic_for
from tests.support import infra

CONSUMER = "alerts.rules"


def _acceptance(n: int) -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=f"H{n % 300:03d}:A{n}", external_id=f"A{n}", institution_id=f"H{n % 300:03d}", pooling_region_code="520100",
        contract_id=f"C{n % 300}", product_id="P1", distributor_id="D001", accepted_quantity=100, rejected_quantity=0,
        accepted_on=date(2026, 9, 1), lot_number="LOT1", unit_price=Decimal("1.9800"), accepted_amount=Decimal("198.00"),
    )


async def produce_backlog(bootstrap: str, ns: str, events: int) -> None:
    await ensure_topics(bootstrap, ns)
    producer = make_producer(bootstrap, "bench-backlog")
    await producer.start()
    try:
        now = datetime.now(UTC)
        for n in range(events):
            event = _acceptance(n) if n % 2 == 0 else _invoice(n)
            envelope = Envelope.wrap(event, time=now)
            await producer.send(topic_for(event).qualified(ns), envelope.to_bytes(), key=envelope.partitionkey.encode())
        await producer.flush()
    finally:
        await producer.stop()


def consumed(metrics_text: str) -> tuple[float, float]:
    """(events handled or otherwise taken, dead-lettered) by the alerts rules consumer."""
    taken = dead = 0.0
    for family in text_string_to_metric_families(metrics_text):
        if family.name != "jicai_events_consumed":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels.get("consumer") == CONSUMER:
                taken += sample.value
                if sample.labels.get("outcome") == "dead_lettered":
                    dead += sample.value
    return taken, dead


def drain_alerts(url: str, events: int, timeout: float) -> tuple[float, float]:
    """Seconds from the first event taken to the last (polling /metrics), and how many were dead-lettered."""
    deadline = time.monotonic() + timeout
    first: float | None = None
    at_first = 0.0
    while time.monotonic() < deadline:
        taken, dead = consumed(httpx.get(f"{url}/metrics", timeout=10).text)
        now = time.monotonic()
        if taken and first is None:
            first, at_first = now, taken
        if taken >= events:
            assert first is not None
            # The events already taken at the first poll count at the rate measured after it.
            return (now - first) * events / max(events - at_first, 1.0), dead
        time.sleep(0.1)
    raise TimeoutError(f"alerts did not consume {events} events in {timeout:.0f} s")


async def raw_consume(bootstrap: str, ns: str, events: int) -> float:
    consumer = AIOKafkaConsumer(
        ORDERS.qualified(ns), bootstrap_servers=bootstrap, group_id=f"bench-raw-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed",
    )
    await consumer.start()
    try:
        seen, started = 0, None
        while seen < events:
            batch = await consumer.getmany(timeout_ms=1000, max_records=500)
            for records in batch.values():
                if started is None:
                    started = time.perf_counter()
                for record in records:
                    json.loads(record.value)
                    seen += 1
            if batch:
                await consumer.commit()
        assert started is not None
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def measure(runs: int = 3, events: int = 6000) -> Row:
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # a fresh topic's first sends retry until it has a leader
    base = postgres_base_url()
    bootstrap = kafka_bootstrap()

    def once(_: int) -> dict[str, float]:
        ns = f"bench-{uuid.uuid4().hex[:8]}."
        asyncio.run(produce_backlog(bootstrap, ns, events))
        url = infra.migrated_database(base, "alerts")
        try:
            env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "JICAI_KAFKA_NAMESPACE": ns}
            with serve("alerts", url, env, workers=True) as alerts:
                alerts_s, dead = drain_alerts(alerts.url, events, timeout=max(180.0, events / 2))
        finally:
            infra.drop_database(url)
        raw_s = asyncio.run(raw_consume(bootstrap, ns, events))
        return {"alerts": events / alerts_s, "raw": events / raw_s, "ratio": raw_s / alerts_s, "dead_lettered": dead}

    return Row(
        key="alerts_consume", title="Alerts consuming a backlog of orders events from Kafka vs raw aiokafka + JSON", size=f"{events} events",
        figures=repeat(runs, once),
        units={"alerts": "events/s handled by alerts", "raw": "events/s raw aiokafka consume + json.loads (baseline)",
               "ratio": "alerts / raw", "dead_lettered": "events dead-lettered (must be 0)"},
        note="half DeliveryAccepted, half InvoiceReceived, 300 institutions; alerts' relay and all its consumers run as deployed.",
    )


def main(events: Annotated[int, typer.Option()] = 6000, runs: Annotated[int, typer.Option()] = 1) -> None:
    run_and_print(lambda: measure(runs, events))


if __name__ == "__main__":
    typer.run(main)
