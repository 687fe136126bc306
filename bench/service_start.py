"""Row ``service_start``: the CPU of one service start (start → ``/readyz`` 200), ``jicai-serve`` against the tests' launcher.

Each run starts the four services one after the other, first as the command (``jicai-serve NAME --port P``, how
``make up`` and production start them), then forked from the pre-imported launcher (``jicai_devstack.launcher``,
how the test suite starts them), on databases already at head (as the end-to-end tests' are) and topics of their
own; each is stopped (SIGTERM) once ready. The figure is the CPU (user+system, from ``/proc/<pid>/stat``) the
service process spent until it answered ready; the launcher's own import, paid once per test process, is its
own figure.

    .venv/bin/python -m bench.service_start [--runs 2]
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Annotated

import typer

from bench.common import BENCH_RUN_DIR, Row, Spread, kafka_bootstrap, load_average, postgres_base_url, run_and_print
from jicai_devstack import launcher
from jicai_devstack import services as procs
from jicai_devstack._proc import free_port
from tests.support import infra

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` so far (children it reaped excluded: a service has none)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _start_all(run_dir: Path, urls: dict[str, str], bootstrap: str, namespace: str) -> list[float]:
    spent = []
    for name in procs.SERVICES:
        env = procs.service_env(name, urls[name], bootstrap, {"JICAI_KAFKA_NAMESPACE": namespace})
        process = procs.start_service(run_dir, name, free_port(), env)
        procs.wait_ready(process, run_dir)
        spent.append(cpu_seconds(process.pid))
        if not procs.stop_service(run_dir, name):
            raise RuntimeError(f"{name} (pid {process.pid}) not seen running as jicai-serve when stopped")
    return spent


def measure(runs: int) -> Row:
    base, bootstrap = postgres_base_url(), kafka_bootstrap()
    urls = {n: infra.create_database(base, f"bench_start_{n}", template=infra.migrated_template(base, n)) for n in procs.SERVICES}
    command: list[float] = []
    forked: list[float] = []
    preloaded = launcher.Launcher(BENCH_RUN_DIR / "service_start" / "launcher.log")
    import_cpu = 0.0
    try:
        for run in range(runs):
            run_dir = BENCH_RUN_DIR / "service_start" / uuid.uuid4().hex[:8]
            launcher.use(None)
            command += _start_all(run_dir / "command", urls, bootstrap, f"bench-start-{run_dir.name}.")
            launcher.use(preloaded)
            forked += _start_all(run_dir / "forked", urls, bootstrap, f"bench-start-{run_dir.name}-f.")
            if run == 0 and preloaded.pid is not None:
                import_cpu = cpu_seconds(preloaded.pid)  # its imports and the forks so far (a fork is milliseconds)
    finally:
        launcher.use(None)
        preloaded.close()
    note = f"load average {load_average()}; CPU-s per start, {len(command)} starts each (the four services × {runs})"
    return Row(
        "service_start", "CPU of one service start, ready", "4 services, databases at head",
        {"command_cpu_s": Spread.of(command), "forked_cpu_s": Spread.of(forked), "launcher_import_cpu_s": Spread.of([import_cpu])},
        {"command_cpu_s": "CPU-s", "forked_cpu_s": "CPU-s", "launcher_import_cpu_s": "CPU-s (once per test process)"}, note,
    )


def main(runs: Annotated[int, typer.Option(min=1)] = 2) -> None:
    run_and_print(lambda: measure(runs))
    print(load_average())


if __name__ == "__main__":
    typer.run(main)
