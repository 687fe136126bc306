"""The dev stack's liveness check of the servers it started (a restart must not start a second broker beside a live one)."""
from __future__ import annotations

import sys
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
    import os

    assert _proc.pid_alive(os.getpid())
    assert not _proc.pid_alive(os.getpid(), "kafka.Kafka")
