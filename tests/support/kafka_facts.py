"""Facts put straight on a namespace's topics, as the producing services' relays would put them, for a consumer
group run without those services (alerts alone, on one instance or several): envelopes, business-day closes with
their watermark markers, and the group's membership."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime

from aiokafka.admin import AIOKafkaAdminClient

from jicai_events import Envelope
from jicai_events.catalog.clock import DAY_CLOSE_MARKERS
from jicai_events.kafka import ensure_topics, make_producer
from jicai_events.topics import CLOCK, CONTRACTS, ORDERS, POLICY, SETTLEMENT, topic_for
from jicai_kit.clock import day_closed_envelope

MARKED = {"contracts": CONTRACTS, "orders": ORDERS, "settlement": SETTLEMENT, "policy": POLICY}
"""The producing services whose markers alerts waits for, and their topics (alerts reads them all)."""


async def publish(bootstrap: str, ns: str, envelopes: Iterable[Envelope]) -> None:
    """Each envelope on its event's topic, keyed by its partition key, in order."""
    await ensure_topics(bootstrap, ns)
    producer = make_producer(bootstrap, "test-facts")
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send(topic_for(envelope.event()).qualified(ns), envelope.to_bytes(), key=envelope.partitionkey.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def close_days(bootstrap: str, ns: str, days: list[date]) -> list[Envelope]:
    """Each day's ``DayClosed`` and, as every producing service's relay would, its marker on every partition of its
    topic; the ``DayClosed`` envelopes sent."""
    producer = make_producer(bootstrap, "test-clock")
    await producer.start()
    sent = []
    try:
        now = datetime.now(UTC)
        for day in days:
            closed = day_closed_envelope(day)
            for service, topic in MARKED.items():
                marker = Envelope.wrap(DAY_CLOSE_MARKERS[service](business_date=day, day_closed_event_id=closed.id), time=now)
                for partition in range(topic.partitions):
                    await producer.send(topic.qualified(ns), marker.to_bytes(), key=marker.partitionkey.encode(), partition=partition)
            await producer.send(CLOCK.qualified(ns), closed.to_bytes(), key=closed.partitionkey.encode())
            sent.append(closed)
        await producer.flush()
    finally:
        await producer.stop()
    return sent


async def wait_for_group(bootstrap: str, group: str, members: int, timeout: float = 300.0) -> None:
    """Until the consumer group is stable with ``members`` members (every instance assigned its partitions)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            [response] = await admin.describe_consumer_groups([group])
            _, _, state, _, _, joined, *_ = response.groups[0]
            if state == "Stable" and len(joined) == members:
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"consumer group {group} not stable with {members} members in {timeout:.0f} s")
    finally:
        await admin.close()
