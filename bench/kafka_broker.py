"""Row ``kafka_broker``: the CPU of a dev/test broker (``jicai_devstack.kafka``), to start and to sit idle.

Each test worker runs a broker for the whole session and the infrastructure tests start a dozen more, on a
2-core machine: its start and its idle minutes are paid by every test run. One run starts a fresh broker with
the dev stack's tuning (``kafka.LEAN``: JVM flags and broker settings) and one with Kafka's own (the baseline,
``kafka.KAFKA_DEFAULTS``), one after the other, and reads each JVM's CPU time (``/proc/<pid>/stat``, user +
system; it follows the load far less than wall time does): from spawn until it serves requests, for creating
``topics`` topics of 4 partitions (what a dozen e2e systems leave on a worker's broker), and for ``idle``
seconds after a settling pause. Then the CDS archive's share (``kafka_jvm``): the dev stack's broker started
without it (``JICAI_KAFKA_CDS=0``; to ready only), and Kafka's format tool (a whole JVM run, its CPU from the
reaped process) with and without it.

    .venv/bin/python -m bench.kafka_broker [--topics 100] [--idle 60] [--runs 1]
"""
from __future__ import annotations

import os
import resource
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from bench.common import BENCH_RUN_DIR, Row, repeat, run_and_print
from jicai_devstack import kafka, kafka_jvm
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


@contextmanager
def cds_off() -> Iterator[None]:
    os.environ["JICAI_KAFKA_CDS"] = "0"
    try:
        yield
    finally:
        del os.environ["JICAI_KAFKA_CDS"]


def start_only(name: str) -> dict[str, float]:
    """CPU-s of a fresh dev stack broker from spawn to ready."""
    run_dir = BENCH_RUN_DIR / f"kafka-{name}"
    shutil.rmtree(run_dir, ignore_errors=True)
    broker = kafka.start_kafka(run_dir, fresh=True)
    assert broker.pid is not None
    try:
        return {f"{name}_start": jvm_cpu_seconds(broker.pid)}
    finally:
        kafka.kill_kafka(run_dir)  # a clean stop of a broker started without an archive would dump one
        shutil.rmtree(run_dir, ignore_errors=True)


def format_tool(name: str) -> dict[str, float]:
    """CPU-s of one run of Kafka's storage format tool (a JVM start, a little work, its exit)."""
    run_dir = BENCH_RUN_DIR / f"kafka-{name}"
    shutil.rmtree(run_dir, ignore_errors=True)
    run_dir.mkdir(parents=True)
    (run_dir / "server.properties").write_text(
        f"process.roles=broker,controller\nnode.id=1\nlog.dirs={run_dir / 'data'}\ncontroller.quorum.voters=1@127.0.0.1:9\n"
        "listeners=PLAINTEXT://127.0.0.1:8,CONTROLLER://127.0.0.1:9\ncontroller.listener.names=CONTROLLER\n")
    (run_dir / "log4j.properties").write_text("log4j.rootLogger=WARN\n")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = kafka_jvm.run_tool(kafka.ensure_jars(), run_dir / "log4j.properties",
                             ["kafka.tools.StorageTool", "format", "-t", "bench-cds-0123456789ab", "-c", str(run_dir / "server.properties")], run_dir)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert res.returncode == 0, res.stdout + res.stderr
    shutil.rmtree(run_dir, ignore_errors=True)
    return {f"{name}_tool": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime}


def measure(runs: int, topics: int = 100, idle: float = 60.0) -> Row:
    def once(_: int) -> dict[str, float]:
        figures = one_broker(kafka.LEAN, "lean", topics, idle) | one_broker(kafka.KAFKA_DEFAULTS, "kafka", topics, idle)
        with cds_off():
            figures |= start_only("nocds") | format_tool("nocds")
        figures |= format_tool("lean")
        figures["start_ratio"] = figures["lean_start"] / figures["kafka_start"]
        figures["idle_ratio"] = figures["lean_idle"] / figures["kafka_idle"]
        figures["cds_start_ratio"] = figures["lean_start"] / figures["nocds_start"]
        figures["cds_tool_ratio"] = figures["lean_tool"] / figures["nocds_tool"]
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
            "nocds_start": "CPU-s from spawn to ready, dev stack tuning without the CDS archive",
            "lean_tool": "CPU-s of the format tool's JVM, with the CDS archive",
            "nocds_tool": "CPU-s of the format tool's JVM, without it",
            "cds_start_ratio": "broker start CPU, with / without the CDS archive",
            "cds_tool_ratio": "format tool CPU, with / without the CDS archive",
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
