"""Real PostgreSQL and Kafka for the test suite, started by the project itself.

One PostgreSQL cluster and one Kafka broker serve the whole run, every pytest-xdist worker included
(``.run/test/shared/``, never the system ``make up`` started): the xdist controller starts both as its workers
spawn and stops them once they are done; with ``-n 0`` the only process starts each on first use and stops it at its end.
Tests keep apart by name, not by server: each test or system has databases of its own (uuid-named) and a Kafka
namespace of its own (``JICAI_KAFKA_NAMESPACE``: its topics and consumer groups prefixed). A broker costs ~4 CPU-s
to start and ~1.2 CPU-s a minute idle, a cluster builds the migrated templates again: one each instead of one per
worker. ``JICAI_TEST_DATABASE_URL_BASE`` and ``KAFKA_BOOTSTRAP_SERVERS`` point the suite at servers that already
run (never stopped by it).

Each test still gets a database of its own, but migrating one takes seconds:
the suite migrates one template per service (named after a hash of the
service's migrations, so a schema change builds a new one) and clones it
(``CREATE DATABASE … TEMPLATE``) per test, one clone ahead in the background.
"""
from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import os
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, TYPE_CHECKING, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import NamedTuple as NamedRow  # typing.NamedTuple, as psycopg types its named rows
from psycopg.rows import namedtuple_row

from jicai_kit import migrations, services
from jicai_kit.migrations import upgrade

if TYPE_CHECKING:
    from jicai_devstack.launcher import Launcher
    from jicai_devstack.postgres import PostgresInstance

REPO = Path(__file__).resolve().parents[2]

# Bytecode is cached for the test session (``__pycache__``, ignored by git), whatever PYTHONDONTWRITEBYTECODE says:
# the workspace's packages are installed editable (uv compiles only site-packages), so with it set every service
# process the tests start (dozens) compiled every jicai module again (0.5 s of CPU each), and pytest rewrote every
# test module's assertions again in each worker. Set before any test module loads; the variable is dropped so that
# the processes the tests start (services, xdist workers) inherit the choice.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
"""This process's pytest-xdist worker (``gw0``…), empty in the process that started the run."""
TEST_RUN_DIR = REPO / ".run" / "test" / WORKER
"""What stays per worker: the service launcher, the run directories of the systems the tests start, screenshots."""
SHARED_RUN_DIR = REPO / ".run" / "test" / "shared"
"""The run's one PostgreSQL (``postgres/``: its data, the templates, kept between runs) and Kafka (``kafka/``: fresh each run)."""
MAX_CONNECTIONS = 300
"""Three workers' tests and the services of their systems on one cluster. A whole run peaked at 65 client
connections (``pg_stat_activity`` each second; 21-26 on each worker's own cluster before), but the pools allow
far more: a system's four services hold up to 20 each (``pool_size=10`` and SQLAlchemy's overflow of 10), and three
workers' systems can run at once. devstack's 200 was one worker's bound."""
TEMPLATE_PREFIX = "test_template_"


LAUNCHER_SOCKET_ENV = "JICAI_TEST_LAUNCHER_SOCKET"
"""Where the run's shared launcher listens: set by the xdist controller for its workers (``start_shared_servers``)."""
_shared_launcher: list[Launcher] = []


def use_service_launcher() -> None:
    """The services the tests start (``jicai_devstack.services.start_service``) are forked from a launcher that
    imported them once: a start costs a tenth of the CPU of the ``jicai-serve`` command, three quarters of which were
    imports (``jicai_devstack.launcher``). Under xdist, the run's one launcher, which the controller starts as its
    workers collect (``start_shared_servers``: each worker's own imported everything again, ~3 CPU-s); else one of the
    test process's own, started on first use. ``JICAI_TEST_SERVICE_LAUNCHER=0`` starts them as commands."""
    from jicai_devstack import launcher

    if os.environ.get("JICAI_TEST_SERVICE_LAUNCHER", "1") == "0":
        return
    shared = os.environ.get(LAUNCHER_SOCKET_ENV)
    if shared:
        launcher.use(launcher.Launcher(SHARED_RUN_DIR / "launcher.log", connect=Path(shared)))
    else:
        launcher.use(launcher.Launcher(TEST_RUN_DIR / "launcher.log"))


def _start_shared_launcher() -> None:
    from jicai_devstack import launcher

    if os.environ.get("JICAI_TEST_SERVICE_LAUNCHER", "1") == "0":
        return
    listening = Path(tempfile.gettempdir()) / f"jicai-test-launcher-{os.getpid()}.sock"
    shared = launcher.Launcher(SHARED_RUN_DIR / "launcher.log", listen=listening)
    shared.start()
    _shared_launcher.append(shared)
    os.environ[LAUNCHER_SOCKET_ENV] = str(listening)  # the workers, spawned after this, inherit it


def package(service: str) -> str:
    """The installed package of ``service`` (its migrations are ``<package>/migrations``); the console is no
    registered service (no events), its package is ``jicai_console``."""
    return "jicai_console" if service == "console" else services.service(service).package


def start_test_postgres(run_dir: Path) -> PostgresInstance:
    """A cluster with the options of the suite's own: no fsync (the tests kill processes, not the machine)."""
    from jicai_devstack.postgres import start_postgres

    return start_postgres(run_dir, fsync_off=True, max_connections=MAX_CONNECTIONS)


def postgres_base_url(*, sweep_done: bool = True) -> str:
    """``postgresql+psycopg://user@host:port`` of a running server: the run's shared cluster, started if needed
    (``start_postgres`` is idempotent under a file lock: of workers asking at once, one starts it). With
    ``sweep_done``, once the controller has listed the databases earlier runs left (``start_shared_servers``)."""
    external = os.environ.get("JICAI_TEST_DATABASE_URL_BASE")
    if external:
        return external.rstrip("/")
    base = start_test_postgres(SHARED_RUN_DIR / "postgres").url_base
    if sweep_done and not _swept:
        with _SWEEP_LOCK.open("a") as waiting:
            fcntl.flock(waiting, fcntl.LOCK_SH)  # released when the file closes
        _swept.append(True)
    return base


_SWEEP_LOCK = SHARED_RUN_DIR / "postgres.sweep.lock"
"""Held by the xdist controller from before its workers spawn until it has listed the databases earlier runs left."""
_swept: list[bool] = []


def create_database(base_url: str, prefix: str, template: str | None = None) -> str:
    """A new database (empty, or a copy of ``template``); returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _on_admin(base_url, lambda conn: _create(conn, name, template))
    return f"{base_url}/{name}"


def _create(conn: psycopg.Connection, name: str, template: str | None = None) -> None:
    """``CREATE DATABASE`` copying the template's files (``STRATEGY FILE_COPY``), not its blocks through the WAL.

    PostgreSQL 15's default (``WAL_LOG``) reads every block of the template (its catalog alone is ~7.5 MB) through
    shared buffers and writes each into the WAL, whose volume then forces checkpoints; without fsync a file copy and
    the checkpoints it asks for cost the cluster less or the same: 27-53 ms a clone against 34-69 and its drop 8-11 ms
    against 12-17 in alternating rounds of 32 clones (load 6-10); on this machine both cost ~500 ms at times, when
    creating the files of a new directory in ``base/`` turned slow (~1 ms a file, 0.03 elsewhere: the file system's
    doing, whatever the strategy). Servers before 15 copy files without being asked (and know no STRATEGY)."""
    statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template or "template1"))
    if conn.info.server_version >= 150000:
        statement += sql.SQL(" STRATEGY = FILE_COPY")
    conn.execute(statement)


def drop_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    _on_admin(base, lambda conn: conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))))


def drop_database_later(url: str) -> None:
    """Drop a test's database in the background: no later test can see it (each has its own), so the next test
    need not wait for its files to go; the session waits for every drop before the server stops."""
    _dropping.append(_dropper.submit(drop_database, url))


_readers: dict[str, psycopg.Connection[NamedRow]] = {}
"""A connection per test database that ``rows`` reads with, kept: a new one per read cost PostgreSQL a backend and its
catalog cache (18 ms of CPU), a dropped database's is ended by its ``DROP … WITH (FORCE)``."""


def rows(url: str, query: str) -> list[NamedRow]:
    """The rows ``query`` reads from a test's database now (what its committed transactions left), by column name."""
    conn = _readers.get(url)
    if conn is None or conn.broken:
        conn = _readers[url] = psycopg.connect(_libpq(url), autocommit=True, row_factory=namedtuple_row)
    return conn.execute(query.encode()).fetchall()


def alembic_revision(url: str) -> str:
    """The revision a database is migrated to."""
    with psycopg.connect(_libpq(url)) as conn:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert row is not None
    return str(row[0])


def migrated_database(base_url: str, service: str) -> str:
    """A new database at the head of ``service``'s migrations, cloned from its template.

    Cloning still copies the whole catalog, so the next clone of the service is
    made in the background while this one's test runs; every test still gets a
    database no other test has touched.
    """
    ahead = _cloned_ahead.pop((base_url, service), None)
    try:
        url = ahead.result() if ahead else _clone(base_url, service)
    except psycopg.Error:  # e.g. the server restarted meanwhile: a clone made now says what is wrong, if anything
        url = _clone(base_url, service)
    _cloned_ahead[(base_url, service)] = _cloner.submit(_clone, base_url, service)
    return url


def drop_databases_cloned_ahead() -> None:
    """Drop the clones no test took and finish the drops under way: at the end of the test session (before the
    server stops), else at exit."""
    while _cloned_ahead:
        _, ahead = _cloned_ahead.popitem()
        with contextlib.suppress(Exception):  # its failure would have been a test's, had one asked
            drop_database(ahead.result())
    while _dropping:
        with contextlib.suppress(Exception):  # a drop that failed leaves one stray database, seen by no test
            _dropping.pop().result()


def _clone(base_url: str, service: str) -> str:
    return create_database(base_url, f"test_{service}", template=migrated_template(base_url, service))


_cloner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clone-ahead")
_cloned_ahead: dict[tuple[str, str], Future[str]] = {}
_dropper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="drop-behind")
_dropping: list[Future[None]] = []
atexit.register(drop_databases_cloned_ahead)


def migrated_template(base_url: str, service: str) -> str:
    """The name of ``service``'s template database for its current migrations, built if missing.

    Safe with several test processes on one server: one builds (under an
    advisory lock) while the others wait. The template only appears, under its
    final name, once fully migrated and closed to connections, because
    ``CREATE DATABASE … TEMPLATE`` refuses a template anyone is connected to.
    """
    name = f"{TEMPLATE_PREFIX}{service}_{migrations_fingerprint(service)}"
    if _on_admin(base_url, lambda conn: _exists(conn, name)):
        return name
    with _connect_admin(base_url) as conn:  # a connection of its own: the advisory lock ends with it
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (TEMPLATE_PREFIX + service,))
        if _exists(conn, name):  # another process built it while we waited
            return name
        building = sql.Identifier(f"{name}_building")
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(building))  # an interrupted build
        _create(conn, f"{name}_building")
        upgrade(package(service), f"{base_url}/{name}_building")
        conn.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false IS_TEMPLATE true").format(building))
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (f"{name}_building",))
        conn.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(building, sql.Identifier(name)))
        # Templates of older migrations of this service are dead weight on a long-lived cluster.
        stale = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
                             (f"{TEMPLATE_PREFIX}{service}\\_%", name)).fetchall()
        for (old,) in stale:
            conn.execute(sql.SQL("ALTER DATABASE {} IS_TEMPLATE false").format(sql.Identifier(old)))
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(old)))
        return name


def migrations_fingerprint(service: str) -> str:
    """A hash of everything that decides ``service``'s migrated schema: its history, env.py, the shared runner."""
    digest = hashlib.sha256()
    for name, content in sorted(_files(migrations.script_directory(package(service)))):
        digest.update(name.encode())
        digest.update(content)
    digest.update(Path(migrations.__file__).read_bytes())
    return digest.hexdigest()[:16]


def _files(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, bytes]]:
    for entry in folder.iterdir():
        if entry.is_dir() and entry.name != "__pycache__":
            yield from _files(entry, f"{prefix}{entry.name}/")
        elif entry.is_file():
            yield f"{prefix}{entry.name}", entry.read_bytes()


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _connect_admin(base_url: str) -> psycopg.Connection:
    """An autocommit connection to the ``postgres`` database (CREATE/DROP DATABASE need autocommit)."""
    return psycopg.connect(_libpq(base_url) + "/postgres", autocommit=True)


T = TypeVar("T")


def _on_admin(base_url: str, work: Callable[[psycopg.Connection], T]) -> T:
    """``work`` on this thread's kept admin connection to the server; on a new one if the server went away meanwhile.

    Every test database is created, dropped and its template looked up through one (~480 a run): a connection each cost
    PostgreSQL a backend (~8 ms of CPU) and the test process ~1.5 ms. One per thread (the test's, clone-ahead,
    drop-behind), so that a clone in the background never holds up a test's own statement."""
    kept: dict[str, psycopg.Connection] = _admin_connections.__dict__.setdefault("by_server", {})
    conn = kept.get(base_url)
    if conn is None or conn.closed:
        conn = kept[base_url] = _connect_admin(base_url)
        with _all_admin_connections_lock:
            _all_admin_connections.append(conn)
    try:
        return work(conn)
    except psycopg.OperationalError:
        if not conn.broken:
            raise
    # The server restarted (a test's own cluster crashed on purpose): once more, on a new connection.
    conn.close()
    kept[base_url] = _connect_admin(base_url)
    with _all_admin_connections_lock:
        _all_admin_connections.append(kept[base_url])
    return work(kept[base_url])


_admin_connections = threading.local()
_all_admin_connections: list[psycopg.Connection] = []
"""Every thread's, closed at the end of the test process."""
_all_admin_connections_lock = threading.Lock()


def kafka_bootstrap() -> str:
    """The run's shared broker, started if needed (idempotent under a file lock, like ``postgres_base_url``)."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return external
    return start_test_kafka(SHARED_RUN_DIR / "kafka")


def start_test_kafka(run_dir: Path) -> str:
    """A broker of the suite's (``jicai_devstack.kafka.LEAN``), started with empty storage: every test's topics are its
    own, none worth loading. Returns its bootstrap address."""
    from jicai_devstack.kafka import start_kafka

    return start_kafka(run_dir, fresh=True).bootstrap


def _libpq(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")


def finish_test_process() -> None:
    """At the end of a test process's session: its launcher closed, its databases dropped (the servers stay up for the
    workers still running; ``stop_shared_servers`` stops them)."""
    from jicai_devstack import launcher

    preloaded = launcher.active()
    if preloaded is not None:
        preloaded.close()  # it would end with this process anyway (end of its input)
    drop_databases_cloned_ahead()
    for reader in _readers.values():
        reader.close()
    _readers.clear()
    with _all_admin_connections_lock:
        while _all_admin_connections:
            _all_admin_connections.pop().close()


def start_shared_servers() -> None:
    """Start the run's PostgreSQL and Kafka side by side in the background, and its service launcher: in the xdist
    controller, as its workers spawn and collect. A worker asking meanwhile waits for the start under way (the run directory's lock) and finds
    them running. The controller is their parent, and the one that stops and reaps them: a worker that had started the
    broker would exit before it, its child still running."""
    _start_shared_launcher()
    _SWEEP_LOCK.parent.mkdir(parents=True, exist_ok=True)
    sweeping = _SWEEP_LOCK.open("a")
    fcntl.flock(sweeping, fcntl.LOCK_EX)  # before any worker exists: none creates a database before the sweep's list
    for start, args in ((_start_shared_postgres, (sweeping,)), (kafka_bootstrap, ())):
        thread = threading.Thread(target=start, args=args, name=f"start-{start.__name__}", daemon=True)
        thread.start()
        _starting.append(thread)


_starting: list[threading.Thread] = []


def _start_shared_postgres(sweeping: IO[str]) -> None:
    """Start the cluster, list the databases earlier runs left on it, let the workers in, then drop those."""
    try:
        base = postgres_base_url(sweep_done=False)
        left = databases_of_earlier_runs(base)
    finally:
        fcntl.flock(sweeping, fcntl.LOCK_UN)  # this run's databases get new uuid names: none is in ``left``
        sweeping.close()
    for name in left:
        with contextlib.suppress(psycopg.Error):  # one left behind again is dropped by the next run
            drop_database(f"{base}/{name}")


def databases_of_earlier_runs(base_url: str) -> list[str]:
    """Every database on the suite's cluster but the templates: as a run starts, what earlier runs left (the end-to-end
    systems' databases, a killed run's). Its data is kept for the templates, and without a sweep it grew by ~40
    databases (~360 MB) a run."""
    with _connect_admin(base_url) as conn:
        return [name for (name,) in conn.execute(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' AND datname NOT LIKE %s",
            (TEMPLATE_PREFIX.replace("_", r"\_") + "%",)).fetchall()]


def stop_shared_servers() -> None:
    """Stop the run's shared servers (never an external one), once every test process is done: by the process that
    started the run. PostgreSQL's data (the templates) stays for the next run; stopping what never started is a no-op."""
    if WORKER:
        return
    while _shared_launcher:
        _shared_launcher.pop().close()
    while _starting:
        _starting.pop().join()
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        from jicai_devstack.kafka import stop_kafka

        stop_kafka(SHARED_RUN_DIR / "kafka")
    if not os.environ.get("JICAI_TEST_DATABASE_URL_BASE"):
        from jicai_devstack.postgres import stop_postgres

        stop_postgres(SHARED_RUN_DIR / "postgres")


def stop_test_infrastructure() -> None:
    """Both, for a script that used the suite's servers in one process (``bench/day_close_latency.py``)."""
    finish_test_process()
    stop_shared_servers()
