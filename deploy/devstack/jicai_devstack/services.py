"""The installed Jicai services as separate processes (uvicorn, one port each).

Each runs ``jicai-serve <service>``: migrations first, then the API with its
outbox relay and consumers. Pid, port and log live in the run dir, so ``up``
twice reuses what runs and ``down`` stops what ``up`` started.
"""
from __future__ import annotations

import functools
import os
import signal
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx

from jicai_kit.auth import Role, issue_token
from jicai_kit.keys import SigningKey
from jicai_kit.services import registered

from . import _proc, launcher

#: Every service installed in this environment (entry points ``jicai.services``), in start order.
SERVICES = tuple(registered())
DEFAULT_PORTS = {name: service.local_port for name, service in registered().items()}
_MARKER = "jicai-serve"
DEVELOPMENT_TOKEN_LIFETIME = timedelta(hours=12)
"""Tokens the devstack hands out (demo, simulator, the operator token of ``make up``): a working day."""


@functools.cache
def local_tls() -> ssl.SSLContext:
    """The TLS context of every HTTP client the dev stack and the tests make for the local services: httpx otherwise builds
    one per client, loading the CA bundle (~47 ms of CPU), and the tests make thousands (readiness polls, probes). Built on
    first use, not when this module is imported (every test worker imports it to collect the suite)."""
    return ssl.create_default_context()


def party_token(key: SigningKey, party_id: str, role: Role) -> str:
    """A development token of ``party_id`` accepted by all four services."""
    return issue_token(key, party_id, role, SERVICES, DEVELOPMENT_TOKEN_LIFETIME)


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    port: int
    pid: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def service_env(name: str, database_url: str, bootstrap: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            f"JICAI_{name.upper()}_DATABASE_URL": database_url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "JICAI_ENV": env.get("JICAI_ENV", "development"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def start_service(run_dir: Path, name: str, port: int, env: dict[str, str], command: list[str] | None = None,
                  marker: str = _MARKER) -> ServiceProcess:
    """Start ``name`` on ``port`` unless it already runs from ``run_dir``; does not wait.

    ``command`` (default ``jicai-serve NAME --port PORT``) is for a process that is no registered service
    (the console); ``marker`` is a word of its command line. With ``launcher.use(...)`` (the test suite), a
    program the launcher knows (``jicai-serve``, ``jicai-console``) is forked from it instead of run as a command."""
    run_dir.mkdir(parents=True, exist_ok=True)
    pid_file = run_dir / f"{name}.pid"
    pid = _proc.read_pid(pid_file)
    if _proc.pid_alive(pid, marker) and pid is not None:
        return ServiceProcess(name, port, pid)
    logs = run_dir / "logs"
    logs.mkdir(exist_ok=True)
    command = command or [str(Path(sys.executable).with_name("jicai-serve")), name, "--port", str(port)]
    preloaded = launcher.active()
    if preloaded is not None and launcher.knows(command):
        pid = preloaded.spawn(command, run_dir, logs / f"{name}.log", env)
    else:
        pid = _proc.spawn_detached(command, run_dir, logs / f"{name}.log", env)
    pid_file.write_text(f"{pid}\n")
    return ServiceProcess(name, port, pid)


def run_command(name: str, args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run ``jicai-serve NAME ARGS…`` to its end (``--rebuild-read-models``, ``--migrate-only``): ``run_program``'s."""
    return run_program([str(Path(sys.executable).with_name("jicai-serve")), name, *args], env, cwd, timeout)


def run_program(command: list[str], env: dict[str, str], cwd: Path, timeout: float = 300.0) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end (``jicai-serve NAME --migrate-only``, ``jicai-console add-users FILE``): as a command,
    or with ``launcher.use(...)`` forked from the pre-imported launcher (output merged into ``stdout`` and ``stderr`` then)."""
    preloaded = launcher.active()
    if preloaded is not None and launcher.knows(command):
        return preloaded.run(command, cwd, env, timeout)
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)


def wait_ready(service: ServiceProcess, run_dir: Path, timeout: float = 120.0) -> float:
    """Poll ``/readyz`` until it says ready (database, Kafka, workers); returns seconds waited."""
    started = time.monotonic()
    last = ""
    pause = 0.05  # a service imports for a second or more, then answers: ask often at first, then less
    with httpx.Client(timeout=5, verify=local_tls()) as client:
        while time.monotonic() - started < timeout:
            if not _proc.pid_alive(service.pid):
                raise RuntimeError(f"{service.name} exited:\n{_proc.tail(run_dir / 'logs' / f'{service.name}.log')}")
            try:
                r = client.get(f"{service.url}/readyz")
                if r.status_code == 200:
                    return time.monotonic() - started
                last = r.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(pause)
            pause = min(pause * 1.5, 0.3)
    raise RuntimeError(f"{service.name} not ready after {timeout:.0f}s ({last}):\n{_proc.tail(run_dir / 'logs' / f'{service.name}.log')}")


def stop_service(run_dir: Path, name: str, *, kill: bool = False, timeout: float = 20.0, marker: str = _MARKER) -> bool:
    """SIGTERM (graceful: workers finish their batch) or SIGKILL (a crash); False if not running."""
    pid_file = run_dir / f"{name}.pid"
    pid = _proc.read_pid(pid_file)
    running = _proc.pid_alive(pid, marker)
    if running and pid is not None:
        _proc.terminate(pid, timeout, signal.SIGKILL if kill else signal.SIGTERM)
    pid_file.unlink(missing_ok=True)
    return running
