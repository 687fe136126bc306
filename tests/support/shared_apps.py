"""One app and one database per service for a test module's tests, each test starting from what a new one gives.

Building a service's app (its routes, its lifespan: policy book, connection pool), its first request (FastAPI
resolves every route's dependencies then: 0.1 s of CPU) and cloning its database cost more than most service tests
themselves. The tests of a module share them (``SharedApps``, module-scoped); the apps every module builds alike
(``DEFAULT_APPS``: the service's settings from the suite's environment, relay and consumers off) are shared by the
whole session (``default_apps``). Each test asks for ``fresh()``, which gives it what a newly cloned database and a
newly started app would:

- every table emptied and every identity restarted, as ``TRUNCATE … RESTART IDENTITY`` would (all the tables of the
  service's schema but ``alembic_version``: the migrated template holds no rows elsewhere), in one transaction;
- the process's memory of the service forgotten, as each service's ``make_runtime`` does when an app starts: its
  folded policy book (else a request within ``REFRESH_S`` would decide with the last test's policy changes);
  alerts' layered calendar years and day-close chunk size (``JICAI_DAY_CLOSE_CHUNK_SIZE``, one per process);
- the client's cookies (the console's sessions) dropped.

tests/service/test_shared_apps.py fails if any of that leaks from one test into the next.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import ExitStack
from dataclasses import dataclass
from graphlib import TopologicalSorter
from types import TracebackType
from typing import Self

import psycopg
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql
from psycopg.rows import TupleRow

from jicai_alerts.adapters import policy as alerts_policy
from jicai_alerts.application import day_close
from jicai_alerts.entrypoints.app import build_app as build_alerts
from jicai_alerts.settings import Settings as AlertsSettings
from jicai_contracts.adapters import policy as contracts_policy
from jicai_contracts.entrypoints.app import build_app as build_contracts
from jicai_contracts.settings import Settings as ContractsSettings
from jicai_kit.policy import FoldedPolicy
from jicai_orders.adapters import policy as orders_policy
from jicai_orders.entrypoints.app import build_app as build_orders
from jicai_orders.settings import Settings as OrdersSettings
from jicai_settlement.adapters import policy as settlement_policy
from jicai_settlement.entrypoints.app import build_app as build_settlement
from jicai_settlement.settings import Settings as SettlementSettings
from tests.support import infra
from tests.support.in_process_client import InProcessClient

POLICY_BOOKS: dict[str, FoldedPolicy] = {
    "contracts": contracts_policy.FOLDED, "orders": orders_policy.FOLDED, "settlement": settlement_policy.FOLDED,
    "alerts": alerts_policy.FOLDED,
}
"""Each service's book, kept per process (the console keeps none)."""


def forget_process_state(service: str, app: FastAPI) -> None:
    """What the process remembers of ``service`` beyond its database, back to what a new app starts from."""
    book = POLICY_BOOKS.get(service)
    if book is not None:
        book.reset()
    if service == "alerts":
        alerts_policy._legacy_years = ()
        alerts_policy._layered.clear()
        settings = app.state.settings
        assert isinstance(settings, AlertsSettings)
        day_close.CHUNK.size = settings.day_close_chunk_size


def emptying_statement(url: str) -> sql.Composed:
    """What ``TRUNCATE … RESTART IDENTITY`` of every table of the database's schema but ``alembic_version`` gives,
    for a tenth of the time on a test's few rows: a ``DELETE`` of each table, referencing tables before those they
    reference, then each table's identity sequences back to their start, never read (``setval(…, false)``).

    A TRUNCATE makes new files for every table and index (31 tables: 0.25 s, three hundred times a run); the
    deleted rows are the test's own, and tests/service/test_shared_apps.py checks what the next test sees."""
    with psycopg.connect(_libpq(url)) as conn:
        names = [name for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version' ORDER BY 1"
        )]
        references = conn.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
            " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
        ).fetchall()
        # The sequences RESTART IDENTITY restarts: those the tables own (identity columns and serials).
        sequences = conn.execute(
            "SELECT s.seqrelid::regclass::text, s.seqstart FROM pg_sequence s"
            " JOIN pg_depend d ON d.objid = s.seqrelid AND d.classid = 'pg_class'::regclass"
            " AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
            " JOIN pg_class t ON t.oid = d.refobjid"
            " WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> 'alembic_version' ORDER BY 1"
        ).fetchall()
    assert names, f"no tables in {url}"
    order = TopologicalSorter({name: set() for name in names})
    for referencing, referenced in references:
        if referencing != referenced:
            order.add(referenced, referencing)  # the referencing rows go first
    deletes = [sql.SQL("DELETE FROM {}").format(sql.Identifier(name)) for name in order.static_order()]
    restarts = [sql.SQL("SELECT setval({}, {}, false)").format(sql.Literal(name), sql.Literal(start)) for name, start in sequences]
    return sql.SQL("; ").join([*deletes, *restarts])


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@dataclass
class SharedApp:
    service: str
    url: str
    app: FastAPI
    client: TestClient
    emptying: sql.Composed
    _emptier: psycopg.Connection[TupleRow] | None = None
    """The connection ``fresh()`` empties the tables on, kept from one test to the next: a new one per test cost
    PostgreSQL a backend and its catalog cache of every table, more than the deletes themselves."""

    def fresh(self) -> TestClient:
        """The client, on empty tables and with the process's memory of the service reset."""
        conn = self._emptier
        if conn is None or conn.broken:
            conn = self._emptier = psycopg.connect(_libpq(self.url), autocommit=True)
            # A test that left a transaction open on its database would hold the deletes forever: say so instead.
            conn.execute("SET lock_timeout = '10s'")
        with conn.transaction():
            conn.execute(self.emptying)
        forget_process_state(self.service, self.app)
        self.client.cookies.clear()
        return self.client

    def close(self) -> None:
        if self._emptier is not None:
            self._emptier.close()


DEFAULT_APPS: dict[str, Callable[[str], FastAPI]] = {
    "alerts": lambda url: build_alerts(AlertsSettings(database_url=url, run_workers=False)),
    "contracts": lambda url: build_contracts(ContractsSettings(database_url=url, run_workers=False)),
    "orders": lambda url: build_orders(OrdersSettings(database_url=url, run_workers=False)),
    "settlement": lambda url: build_settlement(SettlementSettings(database_url=url, run_workers=False)),
}
"""Each service's app as its tests build it unless they need other settings: on its database, with the settings the
suite's environment gives (tests/conftest.py, set before any test runs), relay and consumers off (the tests deliver
events themselves). A test needing other settings builds its own app (``SharedApps.fresh`` with its ``build``). The
policy book is read when it is first used after ``fresh()`` (``JICAI_POLICY_DIR``, ``JICAI_CALENDAR_DIR`` as the test
set them), not when the app is built."""


class SharedApps:
    """The apps of one test module (or, ``DefaultApps``, of the session), built on first use (one per service and
    ``variant``), stopped and their databases dropped when the module's tests (the session) are done."""

    def __init__(self, pg_base_url: str) -> None:
        self._base_url = pg_base_url
        self._apps: dict[tuple[str, Hashable], SharedApp] = {}
        self._stack = ExitStack()

    def fresh(self, service: str, build: Callable[[str], FastAPI], variant: Hashable = "") -> SharedApp:
        """``service``'s app built by ``build(database_url)`` (once per module and ``variant``), reset for a new test."""
        shared = self._apps.get((service, variant))
        if shared is None:  # a new clone, a new app: nothing to forget yet
            url = infra.migrated_database(self._base_url, service)
            self._stack.callback(infra.drop_database_later, url)
            app = build(url)
            client = self._stack.enter_context(InProcessClient(app))
            shared = self._apps[(service, variant)] = SharedApp(service, url, app, client, emptying_statement(url))
            self._stack.callback(shared.close)  # before the database is dropped
        else:
            shared.fresh()
        return shared

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stack.close()


class DefaultApps(SharedApps):
    """``DEFAULT_APPS``, each built once for the session (``default_apps``): what fresh() resets between two tests of
    a module it resets between two modules."""

    def default(self, service: str) -> SharedApp:
        return self.fresh(service, DEFAULT_APPS[service])
