"""Training the brokers' CDS archive at ``make install`` (see ``kafka_jvm``), so that no test run pays for it.

A broker in a scratch run dir dumps the archive (``-XX:ArchiveClassesAtExit``) when it stops cleanly, after a
little of what the tests and services ask of it (topics, an idempotent producer, a transaction, a consumer group
committing), so that the classes those requests load are mapped too. ~9 CPU-s once per JDK, jars and flags; an
archive in place costs a stat of the jars.

    python -m jicai_devstack.kafka_cds
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from .kafka import LEAN, BrokerTuning, create_topics, start_kafka, stop_kafka
from .kafka_jvm import cds_archive, ensure_jars

_TOPIC = "cds.training"


async def _traffic(bootstrap: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    transactional = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id="cds-training")
    consumer = AIOKafkaConsumer(_TOPIC, bootstrap_servers=bootstrap, group_id="cds-training", auto_offset_reset="earliest",
                                enable_auto_commit=False, isolation_level="read_committed")
    await producer.start()
    await transactional.start()
    try:
        await producer.send_and_wait(_TOPIC, b"plain", key=b"k")
        async with transactional.transaction():
            await transactional.send_and_wait(_TOPIC, b"transactional", key=b"k")
        await consumer.start()
        got = 0
        while got < 2:
            got += sum(len(records) for records in (await consumer.getmany(timeout_ms=1000)).values())
        await consumer.commit()
    finally:
        await consumer.stop()
        await transactional.stop()
        await producer.stop()


def ensure_cds_archive(tuning: BrokerTuning = LEAN, cache_dir: Path | None = None) -> Path | None:
    """The archive for brokers of ``tuning`` on the jars of ``cache_dir``, trained now if missing; None if CDS is off or
    another JVM is dumping it."""
    libs = ensure_jars(cache_dir)
    archive = cds_archive(libs, tuning.jvm_flags)
    if archive is None or archive.is_file():  # one in place was checked when it was put there
        return archive
    run_dir = Path(tempfile.mkdtemp(prefix="jicai-kafka-cds-"))
    try:
        broker = start_kafka(run_dir, fresh=True, tuning=tuning, cache_dir=cache_dir)
        create_topics(broker.bootstrap, {_TOPIC: 3})
        asyncio.run(asyncio.wait_for(_traffic(broker.bootstrap), 60))
    finally:
        stop_kafka(run_dir, timeout=120.0)  # the dump takes seconds: a SIGKILL would lose it
        shutil.rmtree(run_dir, ignore_errors=True)
    return archive if archive.is_file() else None


def main() -> None:
    ensure_jars()  # the broker itself: no start without it
    try:
        archive = ensure_cds_archive()
    except Exception as exc:  # an optimisation only: brokers start without it (and the first clean stop dumps one)
        print(f"[devstack] no CDS archive for the Kafka JVMs: {exc}", file=sys.stderr)
        return
    print(f"[devstack] Kafka JVMs' CDS archive: {archive or 'none (JICAI_KAFKA_CDS=0, or another JVM is dumping it)'}")


if __name__ == "__main__":
    main()
