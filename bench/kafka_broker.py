"""Row ``kafka_broker``: the CPU of a dev/test broker (``jicai_devstack.kafka``), to start and to sit idle.

Each test worker runs a broker for the whole session and the infrastructure tests start a dozen more, on a
2-core machine: its start and its idle minutes are paid by every test run. One run starts a fresh broker with
the dev stack's tuning (``kafka.LEAN``: JVM flags and broker settings) and one with Kafka's own (the baseline,
``kafka.KAFKA_DEFAULTS``), one after the other, and reads each JVM's CPU time (``/proc/<pid>/stat``, user +
system; it follows the load far less than wall time does): from spawn until it serves requests, for creating
``topics`` topics of 4 partitions (what a dozen e2e systems leave on a worker's broker), and for ``idle``
seconds after a settling pause.

    .venv/bin/python -m bench.kafka_broker [--topics 100] [--idle 60] [--runs 1]
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Annotated

import typer

from bench.common import BENCH_RUN_DIR, Row, repeat, run_and_print
from jicai_devstack import kafka
from jicai_devstack.kafka_admin import create_topics

SETTLE_S = 20.0
"""After the topics: the work of creating them (and compiling for it) is not counted as idle."""


def jvm_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_broker(tuning: kafka.BrokerTuning, name: str, topics: int, idle: float) -> dict[str, float]:
    run_dir = BENCH_RUN_DIR / f"kafka-{name}"
    shutil.rmtree(run_dir, ignore_errors=True)
    started = time.monotonic()
    broker = kafka.start_kafka(run_dir, fresh=True, tuning=tuning)
    assert broker.pid is not None
    try:
        ready_s, at_ready = time.monotonic() - started, jvm_cpu_seconds(broker.pid)
        create_topics(broker.bootstrap, {f"bench-{i // 7}.topic-{i % 7}": 4 for i in range(topics)})
        for_topics = jvm_cpu_seconds(broker.pid) - at_ready
        time.sleep(SETTLE_S)
        before = jvm_cpu_seconds(broker.pid)
        time.sleep(idle)
        idle_per_minute = (jvm_cpu_seconds(broker.pid) - before) * 60 / idle
        threads = len(os.listdir(f"/proc/{broker.pid}/task"))
    finally:
        kafka.stop_kafka(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
    return {f"{name}_start": at_ready, f"{name}_ready_s": ready_s, f"{name}_topics": for_topics,
            f"{name}_idle": idle_per_minute, f"{name}_threads": threads}


def measure(runs: int, topics: int = 100, idle: float = 60.0) -> Row:
    def once(_: int) -> dict[str, float]:
        figures = one_broker(kafka.LEAN, "lean", topics, idle) | one_broker(kafka.KAFKA_DEFAULTS, "kafka", topics, idle)
        figures["start_ratio"] = figures["lean_start"] / figures["kafka_start"]
        figures["idle_ratio"] = figures["lean_idle"] / figures["kafka_idle"]
        return figures

    return Row(
        "kafka_broker", "Dev/test Kafka broker: CPU to start and idle, dev stack tuning vs Kafka's own", f"{topics} topics × 4 partitions",
        repeat(runs, once),
        units={
            "lean_start": "CPU-s from spawn to ready, dev stack tuning", "kafka_start": "CPU-s from spawn to ready, Kafka's own (baseline)",
            "lean_ready_s": "s to ready, dev stack tuning", "kafka_ready_s": "s to ready, Kafka's own",
            "lean_topics": f"CPU-s creating {topics} topics, dev stack tuning", "kafka_topics": f"CPU-s creating {topics} topics, Kafka's own",
            "lean_idle": "CPU-s per idle minute, dev stack tuning", "kafka_idle": "CPU-s per idle minute, Kafka's own (baseline)",
            "lean_threads": "JVM threads, dev stack tuning", "kafka_threads": "JVM threads, Kafka's own",
            "start_ratio": "start CPU, dev stack / Kafka's own", "idle_ratio": "idle CPU, dev stack / Kafka's own",
        },
    )


def main(
    topics: Annotated[int, typer.Option(min=0)] = 100,
    idle: Annotated[float, typer.Option(min=5, help="seconds of idle measured")] = 60.0,
    runs: Annotated[int, typer.Option(min=1, max=5)] = 1,
) -> None:
    run_and_print(lambda: measure(runs, topics, idle))


if __name__ == "__main__":
    typer.run(main)
