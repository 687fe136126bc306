"""Kafka clients configured the one way every service uses them."""
from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from jicai_events.topics import ALL_TOPICS


def make_producer(bootstrap_servers: str, client_id: str) -> AIOKafkaProducer:
    """Idempotent producer: retries never duplicate or reorder a partition."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=30000,
    )


def make_consumer(
    bootstrap_servers: str, group_id: str, topics: list[str], listener: ConsumerRebalanceListener | None = None
) -> AIOKafkaConsumer:
    """Group consumer that never auto-commits: offsets follow the handling transaction."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=300000,
    )
    consumer.subscribe(topics, listener=listener)
    return consumer


async def ensure_topics(bootstrap_servers: str, ns: str | None = None) -> None:
    """Create every registered topic that does not exist yet (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="jicai-topic-setup")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name=t.qualified(ns), num_partitions=t.partitions, replication_factor=1)
            for t in ALL_TOPICS
            if t.qualified(ns) not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another service created it first
    finally:
        await admin.close()


async def kafka_reachable(bootstrap_servers: str, timeout_s: float = 3.0) -> bool:
    """Readiness: a real metadata round trip, not a TCP probe."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, client_id="jicai-readiness", request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        try:
            await admin.close()
        except Exception:
            pass
