"""What every benchmark row shares: repeated runs, their spread, the machine, a service process.

A row is measured ``runs`` times; each run measures the platform and its raw
baseline back to back, so the ratio compares figures taken under the same
load (the machine is shared).
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from jicai_devstack._proc import free_port
from tests.support import infra

BENCH_RUN_DIR = infra.REPO / ".run" / "bench"


@dataclass(frozen=True)
class Spread:
    """Median, min and max of one figure over the runs."""

    median: float
    low: float
    high: float

    @staticmethod
    def of(values: list[float]) -> Spread:
        return Spread(statistics.median(values), min(values), max(values))

    def text(self, fmt: str = ",.0f") -> str:
        return f"{self.median:{fmt}} ({self.low:{fmt}}–{self.high:{fmt}})"


@dataclass
class Row:
    """One row of RESULTS.md: a figure of the platform, its raw baseline and what they were measured at."""

    key: str
    title: str
    size: str
    figures: dict[str, Spread] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    note: str = ""


def repeat(runs: int, once: Callable[[int], dict[str, float]]) -> dict[str, Spread]:
    """Run ``once(run_index)`` ``runs`` times; each returns named figures."""
    results = [once(i) for i in range(runs)]
    return {name: Spread.of([r[name] for r in results]) for name in results[0]}


def run_and_print(measure: Callable[[], Row]) -> None:
    """A row's own command (``python -m bench.<row>``): measure, stop the infrastructure, print the figures."""
    try:
        row = measure()
    finally:
        stop_infrastructure()
    for name, spread in row.figures.items():
        print(f"{name:14} {spread.text('.3g' if 'ratio' in name else ',.1f')} {row.units.get(name, '')}")


def machine() -> str:
    cpus = os.cpu_count()
    mem = ""
    try:
        kib = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        mem = f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.machine()}, {cpus} cores{mem}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def postgres_base_url() -> str:
    """The benchmarks' own PostgreSQL (``.run/bench/postgres``, as the tests start theirs), so a test run and a bench never stop each other's."""
    from jicai_devstack.postgres import start_postgres

    return start_postgres(BENCH_RUN_DIR / "postgres", fsync_off=True).url_base


def kafka_bootstrap() -> str:
    """The benchmarks' own broker, with Kafka's own JVM flags and thread counts (production's), not the tests' lean
    ones: a C1-only broker serving a backlog would slow the raw baselines it serves and flatter every ratio."""
    from jicai_devstack.kafka import KAFKA_DEFAULTS, start_kafka

    return start_kafka(BENCH_RUN_DIR / "kafka", tuning=KAFKA_DEFAULTS).bootstrap


def stop_infrastructure() -> None:
    from jicai_devstack.kafka import stop_kafka
    from jicai_devstack.postgres import stop_postgres

    stop_kafka(BENCH_RUN_DIR / "kafka")
    stop_postgres(BENCH_RUN_DIR / "postgres")


def api_processes() -> str:
    """How many API processes each served service runs (``JICAI_WEB_CONCURRENCY``, inherited by ``serve``), for the row's size."""
    n = int(os.environ.get("JICAI_WEB_CONCURRENCY", "1"))
    return f"{n} API process{'es' if n > 1 else ''}"


@dataclass(frozen=True)
class ServedService:
    name: str
    url: str
    database_url: str
    pid: int


@contextmanager
def serve(service: str, database_url: str, env: dict[str, str] | None = None, *, workers: bool = False) -> Iterator[ServedService]:
    """``jicai-serve SERVICE`` as its own process on a loopback port (as deployed), stopped on exit.

    Without ``workers`` the API runs without relay and consumers (no Kafka
    needed): the row then measures the request path alone.
    """
    with serve_instances(service, database_url, 1, env, workers=workers) as [served]:
        yield served


@contextmanager
def serve_instances(
    service: str, database_url: str, count: int, env: dict[str, str] | None = None, *, workers: bool = False
) -> Iterator[list[ServedService]]:
    """``count`` instances of ``jicai-serve SERVICE`` on one database (scale-out: the same consumer groups), started
    together and each on its own port, all answering /healthz; stopped on exit."""
    extra = {f"JICAI_{service.upper()}_DATABASE_URL": database_url, "JICAI_RUN_WORKERS": "true" if workers else "false", **(env or {})}
    serve_bin = Path(sys.executable).with_name("jicai-serve")
    argv: Callable[[int], list[str]] = lambda port: [str(serve_bin), service, "--port", str(port)]  # noqa: E731
    with ExitStack() as stack:
        started = [stack.enter_context(_spawned(service, argv, extra)) for _ in range(count)]
        for url, proc in started:
            wait_healthy(url, proc)
        yield [ServedService(service, url, database_url, proc.pid) for url, proc in started]


@contextmanager
def serve_process(name: str, argv: Callable[[int], list[str]], env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """Run an HTTP server process (``argv(port)``) on a free loopback port until it answers /healthz; (url, pid)."""
    with _spawned(name, argv, env) as (url, proc):
        wait_healthy(url, proc)
        yield url, proc.pid


@contextmanager
def _spawned(name: str, argv: Callable[[int], list[str]], env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``argv(port)`` started on a free loopback port, its output in ``.run/bench/NAME-PORT.log``; terminated on exit."""
    port = free_port()
    BENCH_RUN_DIR.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    log = open(BENCH_RUN_DIR / f"{name}-{port}.log", "wb")  # noqa: SIM115 - closed below, after the process
    proc = subprocess.Popen(argv(port), env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=infra.REPO)
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}; see {BENCH_RUN_DIR}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not healthy after {timeout:.0f}s")
