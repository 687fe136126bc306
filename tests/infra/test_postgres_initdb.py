"""Throw-away clusters copy one kept initdb output (``jicai_devstack.postgres_initdb``), never a stale one.

Here initdb is a script that records each run and writes a file unique to it: what is kept and copied, and when
initdb runs again, shows in the files. The real initdb's output is what the other infrastructure tests' clusters
start from.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from jicai_devstack import postgres, postgres_initdb

FAKE_INITDB = """#!/bin/sh
# initdb -D <data> ...: one line per run in runs.log, and a file no other run writes.
echo "$*" >> "$(dirname "$0")/runs.log"
mkdir -p "$2/base" && echo 15 > "$2/PG_VERSION" && head -c 16 /dev/urandom | od -An -tx1 > "$2/base/unique"
"""


def _run(cmd: list[str], user: str | None) -> subprocess.CompletedProcess[str]:
    assert user is None
    return subprocess.run(cmd, capture_output=True, text=True)


@pytest.fixture
def bindir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PostgreSQL bin dir whose initdb is the script; the kept output under ``tmp_path``."""
    monkeypatch.setattr(postgres_initdb, "CACHE_ROOT", tmp_path / "cache")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "initdb").write_text(FAKE_INITDB)
    (bindir / "initdb").chmod(0o755)
    (bindir / "postgres").write_text("the server")
    return bindir


def _runs(bindir: Path) -> int:
    log = bindir / "runs.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_the_first_cluster_runs_initdb_and_the_next_ones_copy_its_output(bindir: Path, tmp_path: Path) -> None:
    postgres_initdb.initdb_from_cache(bindir, tmp_path / "first", None, postgres.INITDB_ARGS, _run)
    assert _runs(bindir) == 1
    assert "--no-sync" in (bindir / "runs.log").read_text(), "the throw-away clusters' initdb"
    postgres_initdb.initdb_from_cache(bindir, tmp_path / "second", None, postgres.INITDB_ARGS, _run)
    assert _runs(bindir) == 1, "copied, not run again"
    assert (tmp_path / "second" / "base" / "unique").read_text() == (tmp_path / "first" / "base" / "unique").read_text()
    assert (tmp_path / "second").stat().st_mode & 0o777 == (tmp_path / "first").stat().st_mode & 0o777


def test_other_options_or_another_postgresql_run_initdb_again_and_drop_the_old_output(bindir: Path, tmp_path: Path) -> None:
    postgres_initdb.initdb_from_cache(bindir, tmp_path / "a", None, postgres.INITDB_ARGS, _run)
    postgres_initdb.initdb_from_cache(bindir, tmp_path / "b", None, (*postgres.INITDB_ARGS, "--data-checksums"), _run)
    assert _runs(bindir) == 2
    assert (tmp_path / "b" / "base" / "unique").read_text() != (tmp_path / "a" / "base" / "unique").read_text()
    server = bindir / "postgres"
    os.utime(server, ns=(server.stat().st_atime_ns, server.stat().st_mtime_ns + 10**9))  # a package upgrade
    postgres_initdb.initdb_from_cache(bindir, tmp_path / "c", None, (*postgres.INITDB_ARGS, "--data-checksums"), _run)
    assert _runs(bindir) == 3
    assert len(list((tmp_path / "cache").iterdir())) == 1, "only the output of the PostgreSQL and options in use is kept"


def test_the_key_follows_the_os_user_and_the_timezone(bindir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = postgres_initdb.initdb_key(bindir, postgres.INITDB_ARGS, None)
    assert postgres_initdb.initdb_key(bindir, postgres.INITDB_ARGS, "postgres") != key
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # initdb writes it into postgresql.conf
    assert postgres_initdb.initdb_key(bindir, postgres.INITDB_ARGS, None) != key


def test_a_failed_initdb_keeps_nothing(bindir: Path, tmp_path: Path) -> None:
    (bindir / "initdb").write_text("#!/bin/sh\necho 'initdb: invalid locale' >&2\nexit 1\n")
    with pytest.raises(RuntimeError, match="invalid locale"):
        postgres_initdb.initdb_from_cache(bindir, tmp_path / "data", None, postgres.INITDB_ARGS, _run)
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").iterdir())
