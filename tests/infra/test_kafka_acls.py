"""A broker as production runs it (deploy/kafka/server-sasl.properties): SASL/SCRAM-SHA-512 and ACLs.

The same jars as the dev stack, started with the production properties, the
users formatted into the metadata log as deploy/kafka/start-broker.sh does,
and the topics and grants made by ``jicai_events.acls.apply`` (what the
compose file's ``kafka-setup`` job runs). Then each service's own credentials,
read through the settings as a service reads them, are tried against its own
and other services' topics and consumer groups.
"""
from __future__ import annotations

import asyncio
import re
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError

from jicai_devstack import _proc
from jicai_devstack.kafka_jvm import ensure_jars, java_command, run_tool
from jicai_events import acls
from jicai_events.kafka import KafkaConnection, client_options, ensure_topics, kafka_reachable, make_producer
from jicai_events.topics import ALL_TOPICS, CLOCK, CONTRACTS, ORDERS, SETTLEMENT
from jicai_kit.auth import Role
from jicai_kit.settings import KafkaSettings
from jicai_orders.entrypoints.app import build_app
from jicai_orders.settings import Settings
from tests.support.in_process_client import InProcessClient
from tests.support.tokens import auth_header

REPO = Path(__file__).resolve().parents[2]
USERS = ("admin", "contracts", "orders", "settlement", "alerts", "clock")


def _properties(run_dir: Path, port: int, cport: int, admin_password: str) -> str:
    template = (REPO / "deploy" / "kafka" / "server-sasl.properties").read_text()
    filled = template
    for name, value in {"LISTEN_HOST": "127.0.0.1", "ADVERTISED_HOST": "127.0.0.1", "PORT": str(port),
                        "CONTROLLER_PORT": str(cport), "LOG_DIRS": str(run_dir / "data")}.items():
        filled = filled.replace(f"@{name}@", value)
    assert not re.search(r"@[A-Z_]+@", filled.replace("@NAME@", "")), "every placeholder of the template is filled"
    jaas = f'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="{admin_password}";'
    return filled + f"listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config={jaas}\n"


@pytest.fixture(scope="module")
def passwords() -> dict[str, str]:
    return {user: secrets.token_hex(24) for user in USERS}


@pytest.fixture(scope="module")
def secured(passwords: dict[str, str]) -> Iterator[str]:
    """A SASL/SCRAM broker with the platform's topics and ACLs; its bootstrap address."""
    run_dir = Path(tempfile.mkdtemp(prefix="jicai-kafka-acls-", dir="/tmp"))
    (run_dir / "logs").mkdir()
    libs = ensure_jars()
    port, cport = _proc.free_port(), _proc.free_port()
    (run_dir / "server.properties").write_text(_properties(run_dir, port, cport, passwords["admin"]))
    (run_dir / "log4j.properties").write_text(f"log4j.rootLogger=WARN, file\nlog4j.appender.file=org.apache.log4j.FileAppender\n"
                                              f"log4j.appender.file.File={run_dir / 'logs' / 'server.log'}\n"
                                              "log4j.appender.file.layout=org.apache.log4j.PatternLayout\n")
    users = [arg for user, password in passwords.items() for arg in ("--add-scram", f"SCRAM-SHA-512=[name={user},password={password}]")]
    formatted = run_tool(libs, run_dir / "log4j.properties", [
        "kafka.tools.StorageTool", "format", "-t", "jicai-acl-test-cluster0", "-c", str(run_dir / "server.properties"), *users], run_dir)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr
    pid = _proc.spawn_detached(java_command(libs, run_dir / "log4j.properties") + ["kafka.Kafka", str(run_dir / "server.properties")],
                               cwd=run_dir, log=run_dir / "logs" / "kafka.out")
    bootstrap = f"127.0.0.1:{port}"
    try:
        admin = KafkaConnection(bootstrap, "SASL_PLAINTEXT", "SCRAM-SHA-512", "admin", passwords["admin"])
        deadline = time.monotonic() + 120
        while not asyncio.run(kafka_reachable(admin)):
            assert time.monotonic() < deadline, f"secured broker not ready; {_proc.tail(run_dir / 'logs' / 'server.log')}"
            time.sleep(0.5)
        asyncio.run(acls.apply(admin))
        asyncio.run(acls.apply(admin))  # the setup job may run on every `docker compose up`
        yield bootstrap
    finally:
        _proc.terminate(pid, 10.0, signal.SIGKILL)  # its data goes too: a clean stop only costs ~0.3 CPU-s more
        shutil.rmtree(run_dir, ignore_errors=True)


def as_service(bootstrap: str, user: str, password: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> KafkaConnection:
    """The connection a service makes from its settings: user from the environment, password from a secret file."""
    secret_file = tmp_path / f"kafka-{user}"
    secret_file.write_text(password + "\n")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("KAFKA_USERNAME", user)
    monkeypatch.setenv("KAFKA_PASSWORD_FILE", str(secret_file))
    return KafkaSettings().kafka()


async def produce(kafka: KafkaConnection, topic: str) -> None:
    producer = make_producer(kafka, "acl-test")
    try:
        await producer.start()
        await asyncio.wait_for(producer.send_and_wait(topic, b"{}", key=b"H001"), 20)
    finally:
        await producer.stop()


async def consume_one(kafka: KafkaConnection, topic: str, group: str) -> bytes:
    consumer = AIOKafkaConsumer(topic, **client_options(kafka), group_id=group, auto_offset_reset="earliest", enable_auto_commit=False)
    try:
        await consumer.start()
        record = await asyncio.wait_for(consumer.getone(), 30)
        await consumer.commit()
        return record.value or b""
    finally:
        await consumer.stop()


def test_a_service_writes_its_own_topic_and_is_refused_on_anothers(
    secured: str, passwords: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    orders = as_service(secured, "orders", passwords["orders"], monkeypatch, tmp_path)
    asyncio.run(produce(orders, ORDERS.qualified("")))
    for foreign in (SETTLEMENT, CONTRACTS, CLOCK):
        with pytest.raises(TopicAuthorizationFailedError):
            asyncio.run(produce(orders, foreign.qualified("")))
    clock = as_service(secured, "clock", passwords["clock"], monkeypatch, tmp_path)
    asyncio.run(produce(clock, CLOCK.qualified("")))  # the clock topic's one writer


def test_a_service_reads_what_it_consumes_in_its_own_groups_only(
    secured: str, passwords: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    contracts = as_service(secured, "contracts", passwords["contracts"], monkeypatch, tmp_path)
    asyncio.run(produce(contracts, CONTRACTS.qualified("")))
    orders = as_service(secured, "orders", passwords["orders"], monkeypatch, tmp_path)
    assert asyncio.run(consume_one(orders, CONTRACTS.qualified(""), "orders.contracts")) == b"{}"
    with pytest.raises(GroupAuthorizationFailedError):
        asyncio.run(consume_one(orders, CONTRACTS.qualified(""), "settlement.contracts"))
    with pytest.raises(TopicAuthorizationFailedError):
        asyncio.run(consume_one(orders, SETTLEMENT.qualified(""), "orders.settlement"))


def test_services_start_under_acls_and_strangers_are_not_let_in(
    secured: str, passwords: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    orders = as_service(secured, "orders", passwords["orders"], monkeypatch, tmp_path)
    assert asyncio.run(kafka_reachable(orders))
    asyncio.run(ensure_topics(orders))  # may create nothing; must not stop a service from starting
    assert not asyncio.run(kafka_reachable(replace(orders, password="not-" + passwords["orders"])))
    assert not asyncio.run(kafka_reachable(KafkaConnection(secured))), "no PLAINTEXT listener for clients"

    async def visible_topics(kafka: KafkaConnection) -> set[str]:
        admin = AIOKafkaAdminClient(**client_options(kafka))
        try:
            await admin.start()
            return set(await admin.list_topics())
        finally:
            await admin.close()

    admin = KafkaConnection(secured, "SASL_PLAINTEXT", "SCRAM-SHA-512", "admin", passwords["admin"])
    assert {t.qualified("") for t in ALL_TOPICS} <= asyncio.run(visible_topics(admin)), "the setup job made every topic"
    assert asyncio.run(visible_topics(orders)) == {t.qualified("") for t in (*acls.READS["orders"], *acls.WRITES["orders"])}
    with pytest.raises(KafkaError):
        asyncio.run(produce(replace(orders, password="wrong"), ORDERS.qualified("")))


def test_a_service_under_acls_serves_but_kafka_refuses_it_the_clock_topic(
    secured: str, passwords: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    service_database: Callable[[str], str],
) -> None:
    """The orders service as production configures it: ready, and its ``POST /clock/days`` refused by Kafka (503)."""
    as_service(secured, "orders", passwords["orders"], monkeypatch, tmp_path)
    settings = Settings(database_url=service_database("orders"), run_workers=False)
    with InProcessClient(build_app(settings)) as client:
        assert client.get("/readyz").json()["checks"]["kafka"] is True
        answer = client.post("/clock/days", json={"first": "2026-03-02"}, headers=auth_header("OPS", Role.OPERATOR))
        assert answer.status_code == 503 and "no day was closed" in answer.json()["detail"]
        assert "TopicAuthorizationFailed" in answer.json()["detail"]
