"""The one registry of Kafka topics and partition counts.

Each service publishes only to its own topic (contracts, the procurement office's side, also writes the
shared policy topic); the message key is the
partition key of the event (the institution id for institution facts), so
one institution's events stay in order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from aiokafka.partitioner import murmur2

from jicai_events.base import IntegrationEvent

NAMESPACE_ENV = "JICAI_KAFKA_NAMESPACE"


def namespace() -> str:
    """Prefix of every topic and consumer group (e.g. ``staging.``), so several
    deployments or test systems can share one cluster without seeing each other."""
    return os.environ.get(NAMESPACE_ENV, "")


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    description: str

    def partition_of(self, key: str) -> int:
        """The partition a record keyed ``key`` goes to: Kafka's default partitioner (murmur2 of the key, as the Java
        client and aiokafka's producer compute it), so a reader can tell which instance of a group consumes a key."""
        hashed: int = murmur2(key.encode())  # aiokafka's partitioner is untyped
        return (hashed & 0x7FFFFFFF) % self.partitions

    def qualified(self, ns: str | None = None) -> str:
        """The name on the broker: the namespace prefix plus the registry name."""
        return (namespace() if ns is None else ns) + self.name


CONTRACTS = Topic("jicai.contracts.events.v1", 6, "parties, winning products, contracts")
ORDERS = Topic("jicai.orders.events.v1", 6, "acceptances and invoices")
SETTLEMENT = Topic("jicai.settlement.events.v1", 6, "payments and monthly settlements")
ALERTS = Topic("jicai.alerts.decisions.v1", 6, "deadlines, warnings, withhold decisions")
CLOCK = Topic("jicai.clock.v1", 1, "DayClosed: business days that have ended")
POLICY = Topic("jicai.policy.v1", 1, "policy changes: region profile assignments, rule go-lives, calendar years (written by contracts)")
DEAD_LETTERS = Topic("jicai.dead-letters.v1", 1, "events a consumer could not handle, with the reason")

ALL_TOPICS: tuple[Topic, ...] = (CONTRACTS, ORDERS, SETTLEMENT, ALERTS, CLOCK, POLICY, DEAD_LETTERS)

_BY_SERVICE = {
    "contracts": CONTRACTS,
    "orders": ORDERS,
    "settlement": SETTLEMENT,
    "alerts": ALERTS,
    "clock": CLOCK,
    "policy": POLICY,
}


def topic_for(event: IntegrationEvent | type[IntegrationEvent]) -> Topic:
    """The topic an event is published to: its owning service's topic."""
    return _BY_SERVICE[event.source_service]
