"""The test PostgreSQL keeps every commit through a killed server.

The suite's cluster runs without fsync (fast; the tests kill processes, not
the machine) but must not drop commits: a test that kills a service or the
database and then looks for an event would otherwise fail by chance, or pass
on data that production would have kept.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jicai_devstack import _proc
from jicai_devstack.postgres import stop_postgres
from tests.support import infra

ROWS = 2000


@pytest.fixture
def run_dir() -> Iterator[Path]:
    # Not tmp_path: the PostgreSQL OS user cannot traverse /tmp/pytest-of-root (0700).
    root = Path(tempfile.mkdtemp(prefix="jicai-crash-", dir="/tmp"))
    root.chmod(0o755)
    yield root / "postgres"
    stop_postgres(root / "postgres")
    shutil.rmtree(root, ignore_errors=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:  # field 4: ppid (after the "(comm)")
                found.append(int(entry))
    return found


def test_every_committed_row_survives_kill_9_of_the_server(run_dir: Path) -> None:
    pg = infra.start_test_postgres(run_dir)
    assert pg.pid is not None
    with psycopg.connect(pg.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TABLE committed (n int PRIMARY KEY)")
        for n in range(ROWS):  # one commit each: the last ones are the ones an unsafe setting loses
            conn.execute("INSERT INTO committed VALUES (%s)", (n,))
        # The whole server at once, as a crash: the postmaster and every child
        # (the WAL writer would otherwise still flush what it holds).
        server = [pg.pid, *_children(pg.pid)]
        for pid in server:
            os.kill(pid, signal.SIGKILL)
    # SIGKILL lands asynchronously; a start that still saw the postmaster would reuse it.
    assert all(_proc.wait_dead(pid, 30.0) for pid in server)

    restarted = infra.start_test_postgres(run_dir)
    assert restarted.pid != pg.pid
    with psycopg.connect(restarted.conninfo()) as conn:
        found = {n for (n,) in conn.execute("SELECT n FROM committed")}
        settings: dict[str, str] = dict(conn.execute("SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit')").fetchall())
    missing = sorted(set(range(ROWS)) - found)
    assert not missing, f"{len(missing)} committed rows lost (first {missing[:5]}) with {settings}"
