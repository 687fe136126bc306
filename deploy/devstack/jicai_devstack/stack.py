"""The whole system on one machine: infrastructure, four services, the day-close scheduler.

``up`` is safe to run twice: what runs is reused, demo data is recorded once
(every write is idempotent), and day closes carry ids derived from the date.
"""
from __future__ import annotations

import os
import secrets
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from jicai_kit.keys import SigningKey, development_key_pair

from . import _proc, kafka, postgres
from . import console as ops_console
from . import services as procs


@dataclass(frozen=True)
class Stack:
    run_dir: Path
    bootstrap: str
    database_urls: dict[str, str]
    signing_key: SigningKey
    processes: dict[str, procs.ServiceProcess]
    timings: dict[str, float]
    console: procs.ServiceProcess | None = None
    console_env: dict[str, str] | None = None


def signing_key(run_dir: Path) -> tuple[SigningKey, Path]:
    """This installation's development token key pair, made once in ``<run dir>/auth``: the private key
    for ``jicai-token``, the demo and the console, the public key set the services verify with."""
    return development_key_pair(run_dir / "auth")


def private_secret(run_dir: Path, name: str) -> str:
    """A random secret made once and kept in ``run_dir/name``, readable by its owner only."""
    path = run_dir / name
    if not path.exists():
        run_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def up(run_dir: Path) -> Stack:
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    k = kafka.ensure_kafka(run_dir / "kafka")
    timings["kafka"] = time.monotonic() - t0
    t0 = time.monotonic()
    databases = (*procs.SERVICES, "console")
    overrides = {n: os.environ[v] for n in databases if (v := f"JICAI_{n.upper()}_DATABASE_URL") in os.environ}
    urls = {}
    if len(overrides) < len(databases):  # start a cluster only for services without their own database
        pg = postgres.ensure_postgres(run_dir / "postgres")
        urls = postgres.ensure_databases(pg, [n for n in databases if n not in overrides])
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
    console_env = ops_console.console_env(run_dir, urls["console"], run_dir / "auth" / "signing-key.json", {n: p.url for n, p in running.items()})
    console = ops_console.start_console(run_dir / "services", console_env)
    timings["console"] = time.monotonic() - launched
    return Stack(run_dir, k.bootstrap, urls, key, running, timings, console, console_env)


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
    if ops_console.stop_console(services_dir):
        stopped.append("console")
    for name in reversed(procs.SERVICES):
        if procs.stop_service(services_dir, name):
            stopped.append(name)
    if kafka.stop_kafka(run_dir / "kafka"):
        stopped.append("kafka")
    if postgres.stop_postgres(run_dir / "postgres"):
        stopped.append("postgres")
    return stopped
