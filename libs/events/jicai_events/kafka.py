"""Kafka clients configured the one way every service uses them."""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from jicai_events.topics import ALL_TOPICS


@dataclass(frozen=True)
class KafkaConnection:
    """Where the brokers are and who we are to them: SASL/SCRAM users in production, nobody locally."""

    bootstrap_servers: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    ssl_cafile: str | None = None

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments every aiokafka client (producer, consumer, admin) is made with."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers, "security_protocol": self.security_protocol}
        if self.security_protocol.startswith("SASL_"):
            if not (self.username and self.password):
                raise ValueError(f"Kafka {self.security_protocol} needs a username and a password (KAFKA_USERNAME, KAFKA_PASSWORD_FILE)")
            options |= {"sasl_mechanism": self.sasl_mechanism, "sasl_plain_username": self.username, "sasl_plain_password": self.password}
        if self.security_protocol.endswith("SSL"):
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        return options


Kafka = KafkaConnection | str
"""A connection, or just the bootstrap servers of a broker that asks nobody who they are (tests, ``make up``)."""


def client_options(kafka: Kafka) -> dict[str, Any]:
    return (KafkaConnection(kafka) if isinstance(kafka, str) else kafka).client_options()


def make_producer(kafka: Kafka, client_id: str) -> AIOKafkaProducer:
    """Idempotent producer: retries never duplicate or reorder a partition."""
    return AIOKafkaProducer(
        **client_options(kafka),
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=5,
        request_timeout_ms=30000,
    )


FETCHER_WAKE_MS = 5_000
"""How long aiokafka's background fetch routine sleeps when nothing wakes it (its ``consumer_timeout_ms``, 200 ms by
default). Everything it reacts to wakes it already: a fetch answered (the broker answers a long poll as soon as a record
arrives), records taken by a poll, a seek, a resume, an assignment lost, metadata refreshed. The timeout only re-checked
that nothing had happened: five times a second for each consumer, the largest share of an idle service's wake-ups."""

SESSION_TIMEOUT_MS = 10_000
"""How long a group keeps a silent member's partitions (aiokafka's default): the production default of
``JICAI_KAFKA_SESSION_TIMEOUT_MS``."""

FETCH_MAX_WAIT_MS = 500
"""How long the broker holds a consumer's fetch when there is nothing to read (Kafka's and aiokafka's default): the
production default of ``JICAI_KAFKA_FETCH_MAX_WAIT_MS``. A record arriving ends the wait at once, so in steady state the
wait costs no latency; an idle consumer asks again this often. What does wait for it: the broker answers one request per
connection at a time and aiokafka sends a node no new fetch while one is in flight, so a partition resumed or sought
(an operator's resume, a self-healing park retried) or newly assigned (a rebalance) is read only once the fetch in
flight returns, up to this long."""


def make_consumer(
    kafka: Kafka, group_id: str, topics: list[str], listener: ConsumerRebalanceListener | None = None,
    session_timeout_ms: int = SESSION_TIMEOUT_MS, fetch_max_wait_ms: int = FETCH_MAX_WAIT_MS,
) -> AIOKafkaConsumer:
    """Group consumer that never auto-commits: offsets follow the handling transaction.

    ``session_timeout_ms``: a member that stops heartbeating (killed, cut off) holds its partitions this long;
    it heartbeats every 3/10 of it (3 s of 10 s, aiokafka's ratio), which is also how soon a live member hears
    of a rebalance. A live member may take ``max(session, 10 s)`` to rejoin a rebalance (to finish the batch in
    hand): a short session must make a dead member's partitions move sooner, not evict a busy one.

    ``fetch_max_wait_ms``: the long poll of an idle consumer (``FETCH_MAX_WAIT_MS``)."""
    consumer = AIOKafkaConsumer(
        **client_options(kafka),
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_interval_ms=300000,
        session_timeout_ms=session_timeout_ms,
        heartbeat_interval_ms=session_timeout_ms * 3 // 10,
        rebalance_timeout_ms=max(session_timeout_ms, SESSION_TIMEOUT_MS),
        consumer_timeout_ms=FETCHER_WAKE_MS,
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    consumer.subscribe(topics, listener=listener)
    return consumer


async def ensure_topics(kafka: Kafka, ns: str | None = None) -> None:
    """Create every registered topic that does not exist yet (idempotent).

    Under ACLs a service sees only the topics it may describe and may create none: the broker
    answers with per-topic authorization errors, which leave the topics to their administrator."""
    admin = AIOKafkaAdminClient(**client_options(kafka), client_id="jicai-topic-setup")
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


class KafkaProbe:
    """Readiness: a real metadata round trip to the brokers, not a TCP probe, on one admin client kept between probes.

    A client per probe paid a connection, a bootstrap and the metadata of every topic on the cluster (hundreds on a
    shared broker) each time ``/readyz`` was asked; the kept client asks for the brokers alone. A failed probe drops
    the client, so the next one connects (and authenticates) afresh."""

    def __init__(self, kafka: Kafka, timeout_s: float = 3.0) -> None:
        self._kafka = kafka
        self._timeout_s = timeout_s
        self._admin: AIOKafkaAdminClient | None = None
        self._lock = asyncio.Lock()

    async def reachable(self) -> bool:
        async with self._lock:
            try:
                if self._admin is None:
                    self._admin = AIOKafkaAdminClient(
                        **client_options(self._kafka), client_id="jicai-readiness", request_timeout_ms=int(self._timeout_s * 1000)
                    )
                    await asyncio.wait_for(self._admin.start(), self._timeout_s)
                # An empty topic list asks for the brokers and no topic (None would ask for every topic).
                await asyncio.wait_for(self._admin.describe_topics([]), self._timeout_s)
                return True
            except Exception:
                await self._drop()
                return False

    async def close(self) -> None:
        async with self._lock:
            await self._drop()

    async def _drop(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


async def kafka_reachable(kafka: Kafka, timeout_s: float = 3.0) -> bool:
    """One probe on a client of its own (a tool, a test): ``KafkaProbe``."""
    probe = KafkaProbe(kafka, timeout_s)
    try:
        return await probe.reachable()
    finally:
        await probe.close()
