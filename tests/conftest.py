"""Fixtures shared by every test: real PostgreSQL, real Kafka, tokens."""
# ruff: noqa: E402  (the collector pauses before the imports below: they are most of a worker's collection)
from __future__ import annotations

import gc

# No collection while each worker imports and collects the suite (a fifth of its collection's CPU: each full pass walked
# ~300,000 objects that all live as long as the worker); pytest_collection freezes them and turns it on again,
# as jicai-serve does for a service's start-up (jicai_kit.serve, jicai_kit.http).
gc.disable()

import os
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING

import pytest

from jicai_kit.auth import Role
from tests.support import infra
from tests.support.tokens import auth_header

if TYPE_CHECKING:
    from tests.support.shared_apps import DefaultApps, SharedApps

# The scenarios run agreement years up to 2028, ahead of the wall clock: "today" for the future-date rule
# (JICAI_BUSINESS_TODAY, inherited by the services the e2e tests start). Tests of that rule set their own.
os.environ.setdefault("JICAI_BUSINESS_TODAY", "2029-12-31")
# The console's test accounts are hashed at argon2's cheapest costs (0.2 s of CPU less a hash; production refuses
# them), here and in the consoles the e2e tests start; tests/unit/console/test_console_domain.py checks RFC 9106's.
os.environ.setdefault("JICAI_CONSOLE_PASSWORD_HASHING", "cheapest")
# A killed service's partitions move to the other members (or its restart) in 3 s, not 10: the suite's brokers allow
# it (jicai_devstack.kafka.LEAN); an external cluster keeps the default, which its floor (6 s by default) allows.
if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
    os.environ.setdefault("JICAI_KAFKA_SESSION_TIMEOUT_MS", "3000")
# An idle consumer asks the broker every 3 s, not every 500 ms (Kafka's default): the ~15 consumers of an idle system cost its
# broker 0.27 CPU-s per 10 s, not 0.5. A resumed or newly assigned partition waits for the fetch in flight (<= 3 s).
os.environ.setdefault("JICAI_KAFKA_FETCH_MAX_WAIT_MS", "3000")
# Hypothesis runs no entry-point plugins when the two property-test modules import it: the only one installed is trio's
# (selenium's), registering a PRNG no test uses, and loading it cost every worker's collection a quarter of a second
# of CPU (trio's import, a scan of every package's entry points and a full garbage collection).
os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
infra.use_service_launcher()


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    return infra.postgres_base_url()


@pytest.fixture
def service_database(pg_base_url: str) -> Iterator[Callable[[str], str]]:
    """``service_database("orders")`` → URL of a fresh database migrated to head."""
    created: list[str] = []

    def make(service: str) -> str:
        url = infra.migrated_database(pg_base_url, service)
        created.append(url)
        return url

    yield make
    for url in created:
        infra.drop_database_later(url)


@pytest.fixture(scope="module")
def shared_apps(pg_base_url: str) -> Iterator[SharedApps]:
    """The module's apps, one per service on a database of its own, each test starting on empty tables
    (``shared_apps.fresh("orders", build)``, tests/support/shared_apps.py)."""
    from tests.support.shared_apps import SharedApps

    with SharedApps(pg_base_url) as apps:
        yield apps


@pytest.fixture(scope="session")
def default_apps(pg_base_url: str) -> Iterator[DefaultApps]:
    """Each service's default app (``DEFAULT_APPS``: alerts, contracts, orders, settlement) for the whole session, each
    test starting on empty tables (``default_apps.default("orders")``, tests/support/shared_apps.py)."""
    from tests.support.shared_apps import DefaultApps

    with DefaultApps(pg_base_url) as apps:
        yield apps


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return infra.kafka_bootstrap()


@pytest.fixture
def token() -> Callable[[str, Role], dict[str, str]]:
    """``token("H001", Role.INSTITUTION)`` → an Authorization header for that party."""

    return auth_header


@pytest.fixture(scope="session", autouse=True)
def _finish_test_process() -> Iterator[None]:
    yield
    infra.finish_test_process()


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    """The collected suite lives as long as the worker: one pass frees the collection's garbage (as the paused passes
    would have), then the rest stays out of every later full pass (pytest's last one at exit included). Also in the
    xdist controller, which collects nothing, and after a collection that failed."""
    try:
        return (yield)
    finally:
        gc.collect()
        gc.freeze()
        gc.enable()


def pytest_configure(config: pytest.Config) -> None:
    """The xdist controller starts the run's one PostgreSQL and one Kafka for all its workers (tests/support/infra.py);
    with ``-n 0`` the test process starts each on first use, as any single process."""
    if not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no" and config.getoption("tx", None):
        infra.start_shared_servers()


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's shared PostgreSQL and Kafka stop when it ends: in the process that started it (the xdist controller
    outlives its workers; with ``-n 0`` the only process), never in a worker, whose peers may still use them."""
    if not hasattr(config, "workerinput"):
        infra.stop_shared_servers()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """``--dist loadfile`` (``make test``): files sharing a session-scoped system stay on one worker,
    the longest go first (tests/support/scheduling.py)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from tests.support.scheduling import SharedSystemsLongestFirst

    return SharedSystemsLongestFirst(config, log)
