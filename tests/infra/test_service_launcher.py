"""The tests' pre-imported launcher (``jicai_devstack.launcher``): a service forked from it is the service the
``jicai-serve`` command would be, as the harness sees it (pid, command line, signals, log, exit) and as it runs
(the environment it was given, not the launcher's); so is the console (``jicai-console serve``, ``add-users``)."""
from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from jicai_devstack import _proc, launcher
from jicai_devstack import console as ops_console
from jicai_devstack import services as procs
from jicai_devstack._proc import free_port
from jicai_events.topics import NAMESPACE_ENV
from tests.support import infra
from tests.support.kafka_facts import wait_for_group
from tests.support.namespaces import delete_namespace_topics
from tests.support.tokens import SIGNING_KEY_FILE

pytestmark = pytest.mark.kafka

_NOWHERE = "postgresql+psycopg://nobody@127.0.0.1:1/nothing"


@pytest.fixture(scope="module")
def own_launcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[launcher.Launcher]:
    """The module's launcher, started (on its first request) with settings of its own that no service may run with: a
    Kafka namespace, an orders and a console database that do not exist, no relay or consumers. One for the module: a launcher's
    start imports every service (~2 CPU-s); the test that ends it leaves the next request to start it again, as
    poisoned (the environment stays set for the module)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv(NAMESPACE_ENV, "launcher-environment.")
        monkeypatch.setenv("JICAI_ORDERS_DATABASE_URL", _NOWHERE)
        monkeypatch.setenv("JICAI_CONSOLE_DATABASE_URL", _NOWHERE)
        monkeypatch.setenv("JICAI_RUN_WORKERS", "false")
        # Listening, as the run's shared launcher does: test_requests_on_connections_to_the_launcher_are_answered_on_each
        here = tmp_path_factory.mktemp("launcher")
        preloaded = launcher.Launcher(here / "launcher.log", listen=here / "launcher.sock")
        before = launcher.active()
        launcher.use(preloaded)
        try:
            yield preloaded
        finally:
            launcher.use(before)
            preloaded.close()


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_forked_service_is_what_jicai_serve_would_be_to_the_harness_and_runs_with_its_own_environment(
    own_launcher: launcher.Launcher, service_database: Callable[[str], str], kafka_bootstrap: str, tmp_path: Path,
) -> None:
    namespace = f"launched-{uuid.uuid4().hex[:8]}."
    run_dir = tmp_path / "run"
    env = procs.service_env("orders", service_database("orders"), kafka_bootstrap, {NAMESPACE_ENV: namespace})
    del env["JICAI_RUN_WORKERS"]  # replaced wholesale: what the launcher has and the request lacks is gone
    try:
        orders = procs.start_service(run_dir, "orders", free_port(), env)
        procs.wait_ready(orders, run_dir)  # its database is the one given: the launcher's does not exist
        assert own_launcher.pid is not None and orders.pid != own_launcher.pid
        assert _cmdline(orders.pid).endswith(f"jicai-serve orders --port {orders.port}")
        assert _proc.pid_alive(orders.pid, "jicai-serve")
        asyncio.run(wait_for_group(kafka_bootstrap, f"{namespace}orders.contracts", 1, timeout=60))  # its namespace, workers on
        assert "launcher-environment." not in (run_dir / "logs" / "orders.log").read_text()

        # A second service from the same launcher is another process: its own request ids (logs, events).
        contracts_env = procs.service_env("contracts", service_database("contracts"), kafka_bootstrap, {NAMESPACE_ENV: namespace})
        contracts = procs.start_service(run_dir, "contracts", free_port(), contracts_env)
        procs.wait_ready(contracts, run_dir)
        prefixes = {httpx.get(f"{s.url}/healthz").headers["X-Request-Id"].rsplit("-", 1)[0] for s in (orders, contracts)}
        assert len(prefixes) == 2

        # SIGKILL is a crash: dead at once to the harness, and reaped (no zombie left behind).
        assert procs.stop_service(run_dir, "orders", kill=True)
        assert not _proc.pid_alive(orders.pid)
        assert _proc.wait_gone(orders.pid, 5)

        # SIGTERM is a graceful stop: uvicorn shuts the app down (workers finish, the groups are left).
        assert _proc.terminate(contracts.pid, 20)
        assert _proc.wait_gone(contracts.pid, 5)
        assert "Application shutdown complete" in (run_dir / "logs" / "contracts.log").read_text()
    finally:
        procs.stop_service(run_dir, "orders", kill=True)
        procs.stop_service(run_dir, "contracts", kill=True)
        asyncio.run(delete_namespace_topics(kafka_bootstrap, namespace))


def test_a_forked_service_that_cannot_start_exits_and_the_harness_shows_why(own_launcher: launcher.Launcher, tmp_path: Path,
                                                                          kafka_bootstrap: str) -> None:
    env = procs.service_env("orders", "postgresql+psycopg://nobody@127.0.0.1:1/unreachable", kafka_bootstrap)
    orders = procs.start_service(tmp_path, "orders", free_port(), env)
    with pytest.raises(RuntimeError, match=r"(?s)orders exited:.*127\.0\.0\.1.*port 1"):
        procs.wait_ready(orders, tmp_path, timeout=60)
    assert _proc.wait_gone(orders.pid, 5)


def test_a_one_off_command_forked_from_the_launcher_ends_as_the_command_would(own_launcher: launcher.Launcher, tmp_path: Path,
                                                                              pg_base_url: str, kafka_bootstrap: str,
                                                                              service_database: Callable[[str], str]) -> None:
    """``jicai-serve NAME --migrate-only`` (as ``--rebuild-read-models``): run to its end, its exit status and output
    reach the test process, which is not its parent."""
    empty = infra.create_database(pg_base_url, "test_launched")
    try:
        migrated = procs.run_command("orders", ["--migrate-only"], procs.service_env("orders", empty, kafka_bootstrap), tmp_path)
        assert migrated.returncode == 0, migrated.stdout
        assert infra.alembic_revision(empty) == infra.alembic_revision(service_database("orders"))  # at head, as the template
    finally:
        infra.drop_database(empty)
    unreachable = procs.service_env("orders", _NOWHERE.replace("nothing", "unreachable"), kafka_bootstrap)
    failed = procs.run_command("orders", ["--migrate-only"], unreachable, tmp_path)
    assert failed.returncode != 0
    assert "127.0.0.1" in failed.stderr and "port 1" in failed.stderr


def test_the_console_forked_from_the_launcher_is_what_jicai_console_would_be(own_launcher: launcher.Launcher, tmp_path: Path,
                                                                          pg_base_url: str) -> None:
    """``jicai-console add-users FILE`` migrates an empty database and writes the accounts, or refuses with its exit
    status; ``jicai-console serve`` answers ``/readyz`` on the database it was given, and stops by its marker."""
    database = infra.create_database(pg_base_url, "test_launched_console")
    env = ops_console.console_env(tmp_path, database, SIGNING_KEY_FILE, {})
    try:
        added = sorted(ops_console.add_demo_accounts(env))
        written = infra.rows(database, "SELECT username FROM staff_users ORDER BY username")
        assert [username for (username,) in written] == added
        listed = tmp_path / "accounts.json"
        listed.write_text(json.dumps([{"username": "fund2", "role": "fund"}]))
        add_users = [ops_console.command(), "add-users", str(listed)]
        refused = procs.run_program(add_users, {**env, "JICAI_CONSOLE_PASSWORD": "short"}, tmp_path)
        assert refused.returncode == 2 and "refused: password" in refused.stderr
        assert not infra.rows(database, "SELECT username FROM staff_users WHERE username = 'fund2'")

        console = ops_console.start_console(tmp_path, env, free_port())  # ready: on its database, not the launcher's
        assert _parent(console.pid) == own_launcher.pid  # forked from it, not run as a command by the test process
        assert _cmdline(console.pid).endswith(f"jicai-console serve --port {console.port}")
        assert ops_console.stop_console(tmp_path)  # found by its marker, stopped gracefully
        assert _proc.wait_gone(console.pid, 5)
        assert "Application shutdown complete" in (tmp_path / "logs" / "console.log").read_text()
    finally:
        ops_console.stop_console(tmp_path, kill=True)
        infra.drop_database(database)


def test_requests_on_connections_to_the_launcher_are_answered_on_each(own_launcher: launcher.Launcher, tmp_path: Path,
                                                                       pg_base_url: str, kafka_bootstrap: str) -> None:
    """The run's one launcher, reached by every xdist worker at its socket (``Launcher(log, connect=PATH)``): requests
    from several connections at once each get their own answer, and a client that leaves ends nothing."""
    listening = own_launcher.log.with_name("launcher.sock")
    empty = [infra.create_database(pg_base_url, "test_launched") for _ in range(2)]
    clients = [launcher.Launcher(own_launcher.log, connect=listening) for _ in range(2)]
    serve = [str(Path(sys.executable).with_name("jicai-serve")), "orders"]
    try:
        with ThreadPoolExecutor(len(clients)) as together:
            migrated = list(together.map(
                lambda client, url: client.run([*serve, "--migrate-only"], tmp_path, procs.service_env("orders", url, kafka_bootstrap), 60),
                clients, empty))
        assert [m.returncode for m in migrated] == [0, 0], [m.stdout for m in migrated]
        assert infra.alembic_revision(empty[0]) == infra.alembic_revision(empty[1]) is not None  # each at head
        for client in clients:
            client.close()
        unreachable = procs.service_env("orders", _NOWHERE.replace("nothing", "unreachable"), kafka_bootstrap)
        failed = own_launcher.run([*serve, "--migrate-only"], tmp_path, unreachable, 60)  # the launcher still answers
        assert failed.returncode != 0 and "port 1" in failed.stderr
    finally:
        for client in clients:
            client.close()
        for url in empty:
            infra.drop_database(url)


def test_the_launcher_ends_with_its_input_and_the_services_it_started_run_on(own_launcher: launcher.Launcher, tmp_path: Path,
                                                                            service_database: Callable[[str], str], kafka_bootstrap: str) -> None:
    namespace = f"launched-{uuid.uuid4().hex[:8]}."
    env = procs.service_env("orders", service_database("orders"), kafka_bootstrap, {NAMESPACE_ENV: namespace})
    try:
        orders = procs.start_service(tmp_path, "orders", free_port(), env)
        procs.wait_ready(orders, tmp_path)
        pid = own_launcher.pid
        assert pid is not None
        own_launcher.close()  # ends its input, as the end of the test process does, and waits for it to exit
        assert not Path(f"/proc/{pid}").exists()
        assert httpx.get(f"{orders.url}/readyz", timeout=10).status_code == 200
        assert procs.stop_service(tmp_path, "orders")
        # A start after that starts a launcher again.
        again = procs.start_service(tmp_path, "orders", free_port(), env)
        procs.wait_ready(again, tmp_path)
        assert own_launcher.pid not in (None, pid)
    finally:
        procs.stop_service(tmp_path, "orders", kill=True)
        asyncio.run(delete_namespace_topics(kafka_bootstrap, namespace))
