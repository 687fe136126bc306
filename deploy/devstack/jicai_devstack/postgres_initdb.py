"""One initdb for every throw-away cluster (``start_postgres(fsync_off=True)``): its output kept, copied per cluster.

A test run makes several clusters of its own (the crash-safety, roles and lifecycle tests, the e2e database crash),
each an initdb: ~0.8 CPU-s of bootstrap backends loading the catalog, the same files every time. A copy of the kept
output costs ~0.1 CPU-s. Two initdb runs of the same options differ only in ``global/pg_control``, the first WAL
segment (both carry the cluster's random system identifier and a timestamp) and ``pg_stat/pgstat.stat`` (a
timestamp): clusters copied from one output share a system identifier, which nothing but replication between them
would notice. The dev stack's cluster (fsync on, made once, kept) still runs initdb itself.

The kept output is keyed on everything else that decides it: initdb's options and OS user, the initdb and postgres
binaries and the share directory they read (path, size, mtime), the C library (its collation version is recorded in
``pg_database``), the timezone initdb writes into postgresql.conf, and the machine (initdb sizes ``shared_buffers``
and ``max_connections`` by trying them). Another PostgreSQL, option or machine makes a new one, never a stale copy.
``make install`` makes it (``python -m jicai_devstack.postgres_initdb``); failing that, the first cluster's initdb.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from . import _proc

CACHE_ROOT = _proc.REPO_ROOT / ".cache" / "postgres"


def initdb_key(bindir: Path, args: Sequence[str], user: str | None) -> str:
    """A hash of what decides initdb's output (the module's docstring)."""
    digest = hashlib.sha256("\0".join([*args, f"user={user or ''}"]).encode())
    files = [bindir / "initdb", bindir / "postgres"]
    share = _share_dir(bindir)
    if share is not None:
        files += sorted(path for path in share.iterdir() if path.is_file())
    for path in files:
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    localtime = Path("/etc/localtime")
    digest.update(f"{os.confstr('CS_GNU_LIBC_VERSION')}\0TZ={os.environ.get('TZ', '')}\0{localtime.resolve()}\0"
                  f"{os.uname().nodename}\0".encode())
    digest.update(localtime.read_bytes() if localtime.is_file() else b"")
    return digest.hexdigest()[:16]


def _share_dir(bindir: Path) -> Path | None:
    pg_config = bindir / "pg_config"
    if not pg_config.exists():
        return None
    share = Path(subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True, check=True).stdout.strip())
    return share if share.is_dir() else None


def initdb_from_cache(bindir: Path, data: Path, user: str | None, args: Sequence[str],
                      run: Callable[[list[str], str | None], subprocess.CompletedProcess[str]]) -> None:
    """``data`` made as ``initdb <args>`` (``--no-sync``) makes it, run as ``user`` by ``run``: a copy of the kept output,
    or initdb itself, its output then kept for the next cluster."""
    kept = CACHE_ROOT / initdb_key(bindir, args, user)
    if not kept.is_dir():
        _initdb(bindir, data, user, args, run)
        _keep(data, kept)
        return
    copied = subprocess.run(["cp", "-a", "--", str(kept), str(data)], capture_output=True, text=True)  # owner and modes kept
    if copied.returncode == 0 and user:
        # The cluster's user owns its data, as initdb run as that user leaves it, even if the kept copy lost its owner
        # (a cache copied by root without -a): a server refuses data it does not own.
        copied = subprocess.run(["chown", "-R", "--", f"{user}:", str(data)], capture_output=True, text=True)
    if copied.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError(f"copying the kept initdb output {kept} failed: {copied.stderr}")


def _initdb(bindir: Path, data: Path, user: str | None, args: Sequence[str],
            run: Callable[[list[str], str | None], subprocess.CompletedProcess[str]]) -> None:
    res = run([str(bindir / "initdb"), "-D", str(data), *args, "--no-sync"], user)
    if res.returncode != 0:
        raise RuntimeError(f"initdb failed:\n{res.stdout}{res.stderr}")


def _keep(data: Path, kept: Path) -> None:
    """A copy of fresh initdb output under ``kept``, whole or not at all (several clusters may start at once)."""
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    partial = CACHE_ROOT / f".{kept.name}.{uuid.uuid4().hex[:8]}"
    try:
        if subprocess.run(["cp", "-a", "--", str(data), str(partial)], capture_output=True).returncode != 0:
            return  # an optimisation only: the next cluster runs initdb again
        try:
            partial.rename(kept)
        except OSError:  # another cluster kept the same output first
            return
        for other in CACHE_ROOT.iterdir():  # of another PostgreSQL, option or machine: never copied again
            if other != kept and not other.name.startswith("."):
                shutil.rmtree(other, ignore_errors=True)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def ensure_initdb_cache() -> Path:
    """The kept initdb output for the test suite's clusters, made now if missing (``make install``)."""
    from .postgres import INITDB_ARGS, _os_user, _prepare_dirs, _reachable, _run, ensure_postgres_installed

    bindir = ensure_postgres_installed()
    scratch = Path(tempfile.mkdtemp(prefix="jicai-initdb-", dir="/tmp"))
    try:
        scratch.chmod(0o755)  # the server's OS user must reach it
        run_dir = _reachable(scratch)
        user = _os_user(run_dir / "data")
        kept = CACHE_ROOT / initdb_key(bindir, INITDB_ARGS, user)
        if not kept.is_dir():
            _prepare_dirs(run_dir, user)
            initdb_from_cache(bindir, run_dir / "data", user, INITDB_ARGS, _run)
        return kept
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    try:
        kept = ensure_initdb_cache()
    except Exception as exc:  # an optimisation only: each test cluster then runs initdb itself
        print(f"[devstack] no kept initdb output for the test clusters: {exc}", file=sys.stderr)
        return
    print(f"[devstack] initdb output for the test clusters: {kept}")


if __name__ == "__main__":
    main()
