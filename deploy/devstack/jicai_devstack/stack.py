"""The whole system on one machine: infrastructure, four services, the day-close scheduler.

``up`` is safe to run twice: what runs is reused, demo data is recorded once
(every write is idempotent), and day closes carry ids derived from the date.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jicai_kit.keys import SigningKey, development_key_pair

from . import _proc, kafka, postgres
from . import services as procs


@dataclass(frozen=True)
class Stack:
    run_dir: Path
    bootstrap: str
    database_urls: dict[str, str]
    signing_key: SigningKey
    processes: dict[str, procs.ServiceProcess]
    timings: dict[str, float]


def signing_key(run_dir: Path) -> tuple[SigningKey, Path]:
    """This installation's development token key pair, made once in ``<run dir>/auth``: the private key
    for ``jicai-token`` and the demo, the public key set the services verify with."""
    return development_key_pair(run_dir / "auth")


def up(run_dir: Path) -> Stack:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    k = kafka.ensure_kafka(run_dir / "kafka")
    timings["kafka"] = time.monotonic() - t0
    t0 = time.monotonic()
    overrides = {n: os.environ[v] for n in procs.SERVICES if (v := f"JICAI_{n.upper()}_DATABASE_URL") in os.environ}
    urls = {}
    if len(overrides) < len(procs.SERVICES):  # start a cluster only for services without their own database
        pg = postgres.ensure_postgres(run_dir / "postgres")
        urls = postgres.ensure_databases(pg, [n for n in procs.SERVICES if n not in overrides])
    urls.update(overrides)
    timings["postgres"] = time.monotonic() - t0
    key, public_keys = signing_key(run_dir)
    running: dict[str, procs.ServiceProcess] = {}
    launched = time.monotonic()
    for name in procs.SERVICES:
        env = procs.service_env(name, urls[name], k.bootstrap, {"JICAI_AUTH_PUBLIC_KEYS": str(public_keys)})
        running[name] = procs.start_service(run_dir / "services", name, procs.DEFAULT_PORTS[name], env)
    for name, proc in running.items():
        procs.wait_ready(proc, run_dir / "services")
        timings[name] = time.monotonic() - launched  # launch → migrated, serving, workers running
    _start_scheduler(run_dir, k.bootstrap)
    return Stack(run_dir, k.bootstrap, urls, key, running, timings)


def _start_scheduler(run_dir: Path, bootstrap: str) -> None:
    """``jicai-clock run``: closes each business day after midnight Asia/Shanghai."""
    pid_file = run_dir / "services" / "clock.pid"
    if _proc.pid_alive(_proc.read_pid(pid_file), "jicai-clock"):
        return
    clock = str(Path(sys.executable).with_name("jicai-clock"))
    pid = _proc.spawn_detached([clock, "run", "--bootstrap", bootstrap], run_dir, run_dir / "services" / "logs" / "clock.log")
    pid_file.write_text(f"{pid}\n")


def down(run_dir: Path) -> list[str]:
    stopped = []
    services_dir = run_dir / "services"
    pid = _proc.read_pid(services_dir / "clock.pid")
    if _proc.pid_alive(pid, "jicai-clock") and pid:
        _proc.terminate(pid, 10.0)
        stopped.append("clock")
    (services_dir / "clock.pid").unlink(missing_ok=True)
    for name in reversed(procs.SERVICES):
        if procs.stop_service(services_dir, name):
            stopped.append(name)
    if kafka.stop_kafka(run_dir / "kafka"):
        stopped.append("kafka")
    if postgres.stop_postgres(run_dir / "postgres"):
        stopped.append("postgres")
    return stopped
