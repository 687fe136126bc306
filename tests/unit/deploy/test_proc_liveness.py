"""The dev stack's liveness check of the servers it started (a restart must not start a second broker beside a live one)."""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from jicai_devstack import _proc


def test_a_child_it_started_is_alive_until_it_ends_whatever_its_command_line_shows(tmp_path: Path) -> None:
    # The marker is not in the child's command line: a server whose command line does not (yet) show it must still
    # count as running while it is our own unreaped child. Reading it as dead is what started a second broker.
    pid = _proc.spawn_detached([sys.executable, "-c", "import time; time.sleep(60)"], cwd=tmp_path, log=tmp_path / "out.log")
    try:
        assert _proc.pid_alive(pid, "kafka.Kafka")
    finally:
        _proc.terminate(pid, 10.0)
    assert not _proc.pid_alive(pid, "kafka.Kafka")


def test_a_pid_from_a_file_is_alive_only_with_the_marker_in_its_command_line() -> None:
    # Not our child (the pid of this test process, as a stale pid file could name it): the marker decides.
    assert _proc.pid_alive(os.getpid())
    assert not _proc.pid_alive(os.getpid(), "kafka.Kafka")



SERVING_FROM_THREADS = """
import socket, threading
listening = socket.create_server(("127.0.0.1", 0))
for _ in range(8):
    threading.Thread(target=threading.Event().wait, daemon=True).start()
print(listening.getsockname()[1], flush=True)
threading.Event().wait()
"""


def _dead(pid: int) -> bool:
    return not _proc.pid_alive(pid)


def _within(seconds: float, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, f"not within {seconds} s"


def test_a_killed_process_of_another_parent_is_dead_only_once_its_port_is_free(tmp_path: Path) -> None:
    """A service the launcher forked (not our child), SIGKILLed: its zombie leader shows while its other threads
    still exit and its listening socket stays open; read as dead then, its restart on the same port failed to bind."""
    port_file = tmp_path / "port"
    for _ in range(10):  # the race is lost most of the time (25 kills in 30 here): ten tries leave little to luck
        port_file.write_text("")
        # Started by a shell that exits at once: the server's parent is then init (or a subreaper), not this process.
        started = subprocess.run(
            ["sh", "-c", f"{shlex.quote(sys.executable)} -c {shlex.quote(SERVING_FROM_THREADS)} >{port_file} 2>&1 </dev/null & echo $!"],
            capture_output=True, text=True, check=True, timeout=10)
        pid = int(started.stdout)
        try:
            _within(10, lambda: port_file.read_text().strip().isdigit())
        finally:
            os.kill(pid, signal.SIGKILL)
        _within(10, partial(_dead, pid))
        with socket.create_server(("127.0.0.1", int(port_file.read_text()))):  # EADDRINUSE while the dead one listens
            pass
