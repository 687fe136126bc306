"""The dev stack's real infrastructure: a KRaft Kafka 3.9 broker and PostgreSQL.

These start real processes (no mocks): the guarantees the services rely on
(idempotent producer, manual group commits, transactions with read_committed,
nothing committed lost across a broker restart or crash) are proven here
against the exact broker the dev stack runs. One broker serves the module
to keep the file well under a minute on 2 cores.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from jicai_devstack import kafka, kafka_jvm, postgres
from jicai_events.kafka import KafkaProbe


@pytest.fixture(scope="module")
def run_root() -> Iterator[Path]:
    # Not tmp_path: the PostgreSQL OS user cannot traverse /tmp/pytest-of-root (0700).
    root = Path(tempfile.mkdtemp(prefix="jicai-infra-", dir="/tmp"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def broker(run_root: Path) -> Iterator[kafka.KafkaInstance]:
    run_dir = run_root / "kafka"
    t0 = time.monotonic()
    instance = kafka.start_kafka(run_dir)
    print(f"\nbroker ready in {time.monotonic() - t0:.1f}s at {instance.bootstrap}")
    yield instance
    kafka.kill_kafka(run_dir)  # its data goes with run_root: a clean stop only costs ~0.3 CPU-s more


# -- helpers -----------------------------------------------------------------

def _producer(bootstrap: str, **kw: Any) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", **kw)


async def _drain(consumer: AIOKafkaConsumer, expected: int, timeout: float = 15.0) -> list[bytes]:
    """Read until ``expected`` records arrived, then a little longer to catch extras."""
    values: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=300 if len(values) < expected else 500)
        got = [r.value for records in batch.values() for r in records]
        values += got
        if len(values) >= expected and not got:
            break
    return values


async def _read_all(bootstrap: str, topic: str, expected: int, isolation: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, isolation_level=isolation)
    await consumer.start()
    try:
        return sorted(await _drain(consumer, expected))
    finally:
        await consumer.stop()


async def _group_read(bootstrap: str, topic: str, group: str, expected: int,
                      commit: bool = True) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                auto_offset_reset="earliest", enable_auto_commit=False,
                                isolation_level="read_committed")
    await consumer.start()
    try:
        values = await _drain(consumer, expected)
        if commit:
            await consumer.commit()
        return values
    finally:
        await consumer.stop()


async def _committed(bootstrap: str, topic: str, group: str, partitions: int) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        offsets = [await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)]
        return sum(o or 0 for o in offsets)
    finally:
        await consumer.stop()


async def _transactions(bootstrap: str, topic: str, txid: str, tag: str) -> None:
    """Commit ``tag-a1, tag-a2``, abort ``tag-b1``, commit ``tag-c1``."""
    producer = _producer(bootstrap, transactional_id=txid)
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, f"{tag}-a1".encode())
            await producer.send_and_wait(topic, f"{tag}-a2".encode())
        await producer.begin_transaction()
        await producer.send_and_wait(topic, f"{tag}-b1".encode())
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send_and_wait(topic, f"{tag}-c1".encode())
    finally:
        await producer.stop()


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:  # another file system
        shutil.copy2(src, dst)


# -- tests -------------------------------------------------------------------

needs_kafka = pytest.mark.kafka  # registered in the root pyproject.toml

@needs_kafka
def test_start_is_idempotent_and_jars_cached(broker: kafka.KafkaInstance) -> None:
    t0 = time.monotonic()
    assert kafka.ensure_jars().joinpath(".complete").is_file()
    assert broker.run_dir is not None
    again = kafka.start_kafka(broker.run_dir)
    assert time.monotonic() - t0 < 5
    assert (again.pid, again.port) == (broker.pid, broker.port)
    assert kafka.kafka_status(broker.run_dir) == broker


needs_cds = pytest.mark.skipif(os.environ.get("JICAI_KAFKA_CDS") == "0", reason="CDS switched off (JICAI_KAFKA_CDS=0)")


@needs_kafka
@needs_cds
def test_the_broker_maps_the_cds_archive_make_install_trained(broker: kafka.KafkaInstance) -> None:
    """Its classes come from the archive, not the jars (~1.4 CPU-s less per start, bench.kafka_broker)."""
    archive = kafka_jvm.cds_archive(kafka.ensure_jars(), kafka.LEAN.jvm_flags)
    assert archive is not None and archive.is_file(), "make install trains it"
    running = kafka.kafka_status(broker.run_dir or Path())
    assert running is not None and running.pid is not None
    assert str(archive) in Path(f"/proc/{running.pid}/maps").read_text(), "mapped, not refused"


@needs_kafka
def test_idempotent_producer_and_manual_group_commit(broker: kafka.KafkaInstance) -> None:
    bs = broker.bootstrap
    assert kafka.create_topics(bs, {"it.orders": 3}) == ["it.orders"]
    assert kafka.create_topics(bs, {"it.orders": 3}) == []  # already exists: no error

    async def scenario() -> None:
        producer = _producer(bs)
        await producer.start()
        try:
            for i in range(30):
                await producer.send(topic="it.orders", key=f"k{i % 7}".encode(), value=f"m{i}".encode())
            await producer.flush()
        finally:
            await producer.stop()
        assert len(await _group_read(bs, "it.orders", "g-orders", 30)) == 30
        assert await _committed(bs, "it.orders", "g-orders", 3) == 30
        # The committed group has nothing left to read.
        assert await _group_read(bs, "it.orders", "g-orders", 0, commit=False) == []

    asyncio.run(scenario())


@needs_kafka
def test_transaction_commit_visible_abort_invisible(broker: kafka.KafkaInstance) -> None:
    bs = broker.bootstrap
    kafka.create_topics(bs, {"it.tx": 1})

    async def scenario() -> None:
        await _transactions(bs, "it.tx", "tx-test", "t")
        assert await _read_all(bs, "it.tx", 3, "read_committed") == [b"t-a1", b"t-a2", b"t-c1"]
        # The aborted record did reach the log: only isolation hides it.
        assert b"t-b1" in await _read_all(bs, "it.tx", 4, "read_uncommitted")

    asyncio.run(scenario())


@needs_kafka
@pytest.mark.parametrize("hard", [False, True], ids=["clean-stop", "kill-9"])
def test_restart_keeps_messages_and_group_offsets(broker: kafka.KafkaInstance, hard: bool) -> None:
    bs, topic, group = broker.bootstrap, f"it.durable.{int(hard)}", f"g-durable-{int(hard)}"
    kafka.create_topics(bs, {topic: 3})

    async def before() -> None:
        producer = _producer(bs)
        await producer.start()
        try:
            for i in range(20):
                await producer.send_and_wait(topic, f"d{i}".encode(), key=f"k{i}".encode())
        finally:
            await producer.stop()
        assert len(await _group_read(bs, topic, group, 20)) == 20
        await _transactions(bs, topic, f"tx-durable-{int(hard)}", "r")

    asyncio.run(before())
    t0 = time.monotonic()
    assert broker.run_dir is not None
    restarted = kafka.restart_kafka(broker.run_dir, hard=hard)
    print(f"\nrestart ({'kill -9' if hard else 'clean'}) to ready: {time.monotonic() - t0:.1f}s")
    assert restarted.bootstrap == bs and restarted.pid != broker.pid

    async def after() -> None:
        # Offsets survived: the group resumes after the 20 plain records and
        # sees only the 3 committed transactional ones, never the aborted one.
        assert await _committed(bs, topic, group, 3) == 20
        resumed = sorted(await _group_read(bs, topic, group, 3))
        assert resumed == [b"r-a1", b"r-a2", b"r-c1"]
        everything = await _read_all(bs, topic, 23, "read_committed")
        assert len(everything) == 23 and b"r-b1" not in everything
        # The broker is writable again (idempotent producer re-initialises).
        producer = _producer(bs)
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"after-restart")
        finally:
            await producer.stop()
        assert await _group_read(bs, topic, group, 1) == [b"after-restart"]

    asyncio.run(after())


def test_postgres_cluster_lifecycle(run_root: Path) -> None:
    run_dir = run_root / "postgres"
    t0 = time.monotonic()
    pg = postgres.start_postgres(run_dir, fsync_off=True)
    print(f"\npostgres initdb+start: {time.monotonic() - t0:.1f}s on port {pg.port}")
    try:
        assert postgres.start_postgres(run_dir).pid == pg.pid  # idempotent: reused
        urls = postgres.ensure_databases(pg, ["it_orders", "it_alerts"])
        assert urls["it_orders"] == f"postgresql+psycopg://jicai@127.0.0.1:{pg.port}/it_orders"
        assert postgres.ensure_databases(pg, ["it_orders"]) == {"it_orders": urls["it_orders"]}
        with psycopg.connect(pg.conninfo("it_orders")) as conn:
            conn.execute("CREATE TABLE t (id int PRIMARY KEY, v text)")
            conn.execute("INSERT INTO t VALUES (1, 'é')")
            assert conn.execute("SELECT current_user, v FROM t").fetchone() == ("jicai", "é")
    finally:
        assert postgres.stop_postgres(run_dir) is True
    assert postgres.stop_postgres(run_dir) is False  # idempotent
    assert postgres.postgres_status(run_dir) is None


def test_external_servers_from_env_start_nothing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-a:9093,kafka-b:9093")
    monkeypatch.setenv("JICAI_DATABASE_URL_BASE", "postgresql+psycopg://app:p%40ss@db.internal:6432")
    k = kafka.ensure_kafka(tmp_path / "kafka")
    assert (k.bootstrap, k.port, k.pid, k.run_dir) == ("kafka-a:9093,kafka-b:9093", 9093, None, None)
    pg = postgres.ensure_postgres(tmp_path / "postgres")
    assert pg.url("orders") == "postgresql+psycopg://app:p%40ss@db.internal:6432/orders"
    assert pg.conninfo("orders") == "postgresql://app:p%40ss@db.internal:6432/orders"
    assert not (tmp_path / "kafka").exists() and not (tmp_path / "postgres").exists()


def test_postgres_is_apt_installed_when_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No binaries found: apt-get update + install runs, then the new bin dir is used."""
    calls: list[list[str]] = []

    def fake_run(cmd: list[str], **kw: object) -> None:  # stands in for apt-get: "installs" PostgreSQL 16
        calls.append(cmd)
        if cmd[:2] == ["apt-get", "install"]:
            for tool in ("initdb", "pg_ctl"):
                (tmp_path / "16" / "bin").mkdir(parents=True, exist_ok=True)
                (tmp_path / "16" / "bin" / tool).touch()

    monkeypatch.setattr(postgres, "PG_ROOT", tmp_path)
    monkeypatch.setattr("jicai_devstack.postgres.shutil.which", lambda name: None)
    monkeypatch.setattr("jicai_devstack.postgres.os.geteuid", lambda: 0)
    monkeypatch.setattr("jicai_devstack.postgres.subprocess.run", fake_run)
    assert postgres.ensure_postgres_installed() == tmp_path / "16" / "bin"
    assert calls == [["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]]


def _broken_cds_cache(run_root: Path) -> Path:
    """Jars of their own (the same inodes: 46 MB not copied) whose CDS archive is truncated, as a half-copied cache or a
    full disk leaves it; the archive of every other test's broker stays whole."""
    libs, flags = kafka.ensure_jars(), kafka.LEAN.jvm_flags
    cache = run_root / "cache"
    shutil.copytree(libs, cache / "libs", copy_function=_link_or_copy)
    shutil.copytree(libs.parent / "formatted", cache / "formatted")  # no format tool run
    archive, trained = kafka_jvm.cds_archive(cache / "libs", flags), kafka_jvm.cds_archive(libs, flags)
    assert archive is not None and trained is not None and trained.is_file()
    archive.parent.mkdir()
    archive.write_bytes(trained.read_bytes()[: 1 << 20])
    return cache


@needs_kafka
def test_a_fresh_start_begins_with_no_topics_of_an_earlier_run_and_a_broken_cds_archive_does_not_stop_it(
    broker: kafka.KafkaInstance, run_root: Path,
) -> None:
    """The test suite's broker starts ``fresh``: earlier runs' topics (their partitions loaded at every start) are gone.

    The same start, on jars whose CDS archive is truncated: that kills a Java 17 JVM with SIGBUS, whatever -Xshare:auto
    promises, so the start goes on without it and drops it, for the next clean stop to dump a good one (one broker
    start proves both: ~3 CPU-s each). Last in the module: it restarts the module's broker."""
    assert broker.run_dir is not None
    cds = os.environ.get("JICAI_KAFKA_CDS") != "0"
    cache = _broken_cds_cache(run_root) if cds else None
    assert kafka.create_topics(broker.bootstrap, {"it.earlier-run": 2}) == ["it.earlier-run"]
    # The same stop and start show /readyz's probe, whose client is kept between probes, following the broker.
    with asyncio.Runner() as loop:
        probe = KafkaProbe(broker.bootstrap, timeout_s=2.0)
        assert loop.run(probe.reachable()), "a running broker is reachable"
        kafka.stop_kafka(broker.run_dir)
        assert not loop.run(probe.reachable()), "a stopped broker is not, though the probe's client was connected"
        fresh = kafka.start_kafka(broker.run_dir, fresh=True, cache_dir=cache)
        assert loop.run(probe.reachable()), "reachable again once it is back, without a new probe"
        loop.run(probe.close())
    assert fresh.bootstrap == broker.bootstrap, "the same address: clients holding it reconnect"
    assert kafka.create_topics(fresh.bootstrap, {"it.earlier-run": 2}) == ["it.earlier-run"], "created anew: it was gone"
    if cache is not None:
        archive = kafka_jvm.cds_archive(cache / "libs", kafka.LEAN.jvm_flags)
        assert archive is not None and not archive.exists(), "the broken archive dropped"
