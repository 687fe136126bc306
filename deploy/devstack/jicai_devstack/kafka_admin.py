"""Client-side Kafka helpers: readiness probe and idempotent topic creation.

Readiness is judged with real requests, not a TCP probe: a KRaft broker
accepts connections before it is registered with its controller (metadata
then lists no broker), and its group coordinator loads ``__consumer_offsets``
after that. While loading, OffsetFetch v2+ answers with a *top-level* error
and no partitions, which aiokafka 0.14 ignores (it reads "no committed
offsets"), so ``ready`` also waits for the coordinator to serve offsets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from aiokafka.protocol.commit import OffsetFetchRequest

from ._proc import run_coro

PROBE_GROUP = "jicai-devstack-probe"  # never joined; only its (empty) offsets are read


async def probe(bootstrap: str, timeout: float = 5.0) -> bool:
    """True if the cluster lists a broker and its group coordinator serves offsets."""
    # A plain connect first: while the port is closed aiokafka would log an
    # ERROR per attempt. The verdict itself comes from the Kafka requests below.
    host, _, port = bootstrap.split(",")[0].strip().rpartition(":")
    try:
        async with asyncio.timeout(timeout):
            _, writer = await asyncio.open_connection(host or "127.0.0.1", int(port or 9092))
        writer.close()
    except (OSError, TimeoutError):
        return False
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout * 1000))
    try:
        async with asyncio.timeout(timeout):
            await client.bootstrap()  # a Metadata request
            if not client.cluster.brokers():
                return False
            node = await client.coordinator_lookup(0, PROBE_GROUP)  # 0: group coordinator
            resp = await client.send(node, OffsetFetchRequest(PROBE_GROUP, []))
            return getattr(resp, "error_code", 0) == 0
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await client.close()


async def acreate_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    replication_factor: int = 1,
    configs: Mapping[str, str] | None = None,
) -> list[str]:
    """Create ``{name: partitions}`` topics; existing topics are left as they are.

    Returns the names actually created. Other broker errors raise.
    """
    if not topics:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        new = [
            NewTopic(name, n, replication_factor, topic_configs=dict(configs or {}))
            for name, n in topics.items()
        ]
        resp = await admin.create_topics(new, timeout_ms=30_000)
    finally:
        await admin.close()
    created: list[str] = []
    for entry in resp.topic_errors:
        name, code = entry[0], entry[1]
        if code == 0:
            created.append(name)
        elif for_code(code) is not TopicAlreadyExistsError:
            message = entry[2] if len(entry) > 2 else ""
            raise for_code(code)(f"creating topic {name!r}: {message}")
    return created


def create_topics(
    bootstrap: str,
    topics: Mapping[str, int],
    replication_factor: int = 1,
    configs: Mapping[str, str] | None = None,
) -> list[str]:
    """Sync wrapper of :func:`acreate_topics` (usable inside a running loop too)."""
    return run_coro(acreate_topics(bootstrap, topics, replication_factor, configs))
