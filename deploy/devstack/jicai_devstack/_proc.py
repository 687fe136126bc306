"""Small process/file helpers shared by the Kafka and PostgreSQL launchers.

Both launchers follow the same pattern: a *run dir* holds the data, the logs,
a pid file and a JSON state file (ports, ids), so that a second ``start`` on a
live instance reuses it and a ``start`` after ``stop`` keeps the same ports
and data.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

#: deploy/devstack/jicai_devstack/_proc.py -> repository root (editable install).
REPO_ROOT = Path(os.environ.get("JICAI_REPO_ROOT") or Path(__file__).resolve().parents[3])


def default_run_dir(component: str) -> Path:
    """``<repo>/.run/<component>``: the gitignored home of the dev stack."""
    return REPO_ROOT / ".run" / component


def free_port() -> int:
    """A loopback port that is free right now (the OS picks it).

    There is a small window before the server binds it; acceptable for a
    dev stack and far better than fixed ports clashing between test runs.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        host_port: tuple[str, int] = s.getsockname()
        return host_port[1]


def port_in_use(port: int) -> bool:
    """True if ``port`` cannot be bound on 127.0.0.1 (TIME_WAIT leftovers do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive advisory lock on ``path`` (created if needed).

    Serialises concurrent starts (two terminals, parallel test workers) so they
    do not both format storage, run initdb or resolve jars at the same time.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def wait_port_free(port: int, timeout: float = 10.0) -> bool:
    """Wait for ``port`` to be released, e.g. by a process that is still exiting."""
    deadline = time.monotonic() + timeout
    while port_in_use(port):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def read_json(path: Path) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    # Write-then-rename so a crash never leaves a half-written state file.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


#: Detached servers we spawned, kept referenced: a dropped Popen of a running
#: process warns (ResourceWarning), and poll() is the exact way to reap ours.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
_EXIT_STATUS: dict[int, int] = {}


def exit_status(pid: int) -> int | None:
    """How a server we spawned ended (negative: killed by that signal), once it has."""
    return _EXIT_STATUS.get(pid)


def spawn_detached(cmd: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> int:
    """Start a server in its own session (it outlives us and our Ctrl-C); output to ``log``."""
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
    _CHILDREN[proc.pid] = proc
    return proc.pid


def _threads(pid: int) -> int:
    """How many threads ``pid`` has left (a zombie's leader is one of them), 0 once it is gone."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except (FileNotFoundError, ProcessLookupError):
        return 0


def pid_alive(pid: int | None, cmdline_marker: str | None = None) -> bool:
    """True if ``pid`` runs and (optionally) its command line contains a marker.

    The marker guards against pid reuse after a reboot or crash: a stale pid
    file must not make us signal some unrelated process. Zombies count as dead
    once no thread of theirs is left (and are reaped when they are our own
    children, e.g. after ``kill -9``).
    """
    if not pid:
        return False
    child = _CHILDREN.get(pid)
    if child is not None:
        if child.poll() is None:
            # Our own child, not reaped: its pid cannot have been reused, and its command line is not proof of
            # death (a JVM launcher re-executing itself shows another one for a moment; read as "exited", a
            # second broker was started beside the first and failed to bind its ports).
            return True
        _EXIT_STATUS[pid] = child.returncode
        del _CHILDREN[pid]
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    if stat.rsplit(")", 1)[1].split()[0] == "Z":
        # A zombie leader may still have threads tearing down (a JVM holds its
        # sockets until the last thread exits), so only a completed reap of our
        # own child, or someone else's zombie with no thread left, counts as dead:
        # a service forked from the launcher, SIGKILLed, still held its port
        # while its other threads exited, and its restart on that port failed.
        try:
            return os.waitpid(pid, os.WNOHANG)[0] == 0
        except ChildProcessError:
            return _threads(pid) > 1
    if cmdline_marker is None:
        return True
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except FileNotFoundError:
        return False
    return cmdline_marker.encode() in cmdline


def wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def wait_gone(pid: int | None, timeout: float) -> bool:
    """Wait until ``pid`` has no /proc entry at all (zombies included, unlike pid_alive)."""
    deadline = time.monotonic() + timeout
    while pid and Path(f"/proc/{pid}").exists():
        pid_alive(pid)  # reaps it if it is our own zombie child
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def terminate(pid: int, timeout: float, sig: int = signal.SIGTERM) -> bool:
    """Send ``sig``, wait up to ``timeout`` s, then SIGKILL. No error if already gone.

    Returns True if the process ended on ``sig`` alone (a clean stop for SIGTERM).
    """
    for s, wait in ((sig, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.kill(pid, s)
        except ProcessLookupError:
            return s == sig
        if wait_dead(pid, wait):
            return s == sig
    raise RuntimeError(f"process {pid} survived SIGKILL")


def tail(path: Path, lines: int = 40) -> str:
    """Last ``lines`` lines of a log file, for error messages."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return f"(no {path})"
    return "\n".join(text.splitlines()[-lines:])


def run_coro(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, even when an event loop is already running.

    The launchers are sync (CLI, fixtures) but readiness/admin calls use
    aiokafka; under pytest-asyncio a loop is running, so use a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
