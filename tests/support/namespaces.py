"""A test's Kafka namespace (``JICAI_KAFKA_NAMESPACE``) removed once the test is done."""
from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient


async def delete_namespace_topics(bootstrap: str, namespace: str) -> None:
    """Delete every topic of ``namespace``: else each test's partitions (27 for the platform's topics) stay on the
    run's broker (shared by every worker), which keeps them (files, checkpoints, metadata) for the rest of the run."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(namespace)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
