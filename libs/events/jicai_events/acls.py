"""Who may do what on Kafka: one user per service, each writing only its own topic.

The table below is what production applies (``jicai-kafka-setup``, run by the
compose file's ``kafka-setup`` job with the admin user): a service writes its
own topic (and the dead-letter topic its consumers park events on), reads the
topics it consumes, and joins only consumer groups named after itself
(``<service>.``, a prefixed ACL). The clock topic's only writer is the clock
scheduler. Anything not granted is refused: the broker runs
``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``.

aiokafka has the CreateAcls protocol messages but no admin method for them,
so ``apply`` sends the requests itself (one round trip per binding; creating a binding twice is harmless).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.admin import CreateAclsRequest

from jicai_events.kafka import Kafka, client_options
from jicai_events.topics import ALERTS, ALL_TOPICS, CLOCK, CONTRACTS, DEAD_LETTERS, ORDERS, POLICY, SETTLEMENT, Topic

WRITES: dict[str, tuple[Topic, ...]] = {
    "contracts": (CONTRACTS, POLICY, DEAD_LETTERS),
    "orders": (ORDERS, DEAD_LETTERS),
    "settlement": (SETTLEMENT, DEAD_LETTERS),
    "alerts": (ALERTS, DEAD_LETTERS),
    "clock": (CLOCK,),
}
"""Topics each Kafka user may write (contracts owns the policy topic: operators' policy changes)."""

WRITER_OF_SOURCE: dict[str, str] = {"policy": "contracts"}
"""Event sources written by another service's Kafka user: contracts records the operators' policy changes."""

READS: dict[str, tuple[Topic, ...]] = {
    "contracts": (ORDERS, CLOCK, POLICY),  # its own policy changes too: every instance folds them from the topic
    "orders": (CONTRACTS, CLOCK, POLICY),
    "settlement": (ORDERS, CONTRACTS, ALERTS, CLOCK, POLICY),
    "alerts": (CONTRACTS, ORDERS, SETTLEMENT, CLOCK, POLICY),
}
"""Topics each service consumes (its consumers' ConsumerSpec.topics and the day-close markers' clock)."""


class Resource(IntEnum):  # Kafka's ResourceType codes
    TOPIC = 2
    GROUP = 3


class Pattern(IntEnum):  # PatternType
    LITERAL = 3
    PREFIXED = 4


class Operation(IntEnum):  # AclOperation
    READ = 3
    WRITE = 4
    DESCRIBE = 8


_ALLOW = 3  # AclPermissionType.ALLOW


@dataclass(frozen=True)
class Acl:
    user: str
    resource: Resource
    name: str
    operation: Operation
    pattern: Pattern = Pattern.LITERAL


def platform_acls(ns: str = "") -> list[Acl]:
    """Every grant of the platform, for topics and groups under namespace ``ns``."""
    acls: list[Acl] = []
    for user, topics in WRITES.items():
        acls += [Acl(user, Resource.TOPIC, t.qualified(ns), op) for t in topics for op in (Operation.WRITE, Operation.DESCRIBE)]
    for user, topics in READS.items():
        acls += [Acl(user, Resource.TOPIC, t.qualified(ns), op) for t in topics for op in (Operation.READ, Operation.DESCRIBE)]
        acls += [Acl(user, Resource.GROUP, f"{ns}{user}.", op, Pattern.PREFIXED) for op in (Operation.READ, Operation.DESCRIBE)]
    return list(dict.fromkeys(acls))


async def apply(admin_connection: Kafka, ns: str = "") -> None:
    """Create the platform's topics and grant its ACLs, as the admin user; running it again changes nothing."""
    admin = AIOKafkaAdminClient(**client_options(admin_connection), client_id="jicai-kafka-setup")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t.qualified(ns), t.partitions, 1) for t in ALL_TOPICS if t.qualified(ns) not in existing]
        if missing:
            _raise_errors("create topics", (await admin.create_topics(missing)).to_object()["topic_errors"])
        node = admin._client.get_random_node()
        for a in platform_acls(ns):
            request = CreateAclsRequest(a.resource, a.name, a.pattern, f"User:{a.user}", "*", a.operation, _ALLOW)
            _raise_errors("create ACLs", (await admin._client.send(node, request)).to_object()["creation_responses"])
    finally:
        await admin.close()


def _raise_errors(what: str, results: list[dict[str, object]]) -> None:
    failed = [r for r in results if r["error_code"] not in (0, 36)]  # 36: topic already exists
    if failed:
        raise RuntimeError(f"could not {what}: {failed}")
