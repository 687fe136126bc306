"""A module's tests share one app and one database per service, the modules one default app of each service
(tests/support/shared_apps.py): each test must still start from what a newly cloned database and a newly started
app give it. These fail if anything a test wrote,
folded or set reaches the next one."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date

import psycopg
import pytest
from psycopg import sql

from jicai_alerts.application import day_close
from jicai_alerts.settings import Settings
from jicai_events.catalog import RuleGoLiveSet
from jicai_kit.auth import Role
from tests.service.alerts.test_flow import invoice, payment, shared_alerts
from tests.service.orders.test_api import C1
from tests.service.orders.test_api import _deliver as deliver_contract
from tests.support.shared_apps import DefaultApps, SharedApps

Token = Callable[[str, Role], dict[str, str]]


def rows_per_table(url: str) -> dict[str, int]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        names = [name for (name,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
        counted = {}
        for name in names:
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name))).fetchone()
            assert row is not None
            counted[name] = int(row[0])
        return counted


def identities_used(url: str) -> list[str]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return [name for (name,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL ORDER BY 1"
        )]


def test_the_next_test_sees_no_row_identity_policy_change_chunk_size_or_cookie_of_the_last(
    shared_apps: SharedApps, token: Token, service_database: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JICAI_POLICY_DIR", raising=False)
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    new = service_database("alerts")  # what a test got before: a clone of the migrated template
    first = shared_alerts(shared_apps, token)
    assert rows_per_table(first.url) == rows_per_table(new)

    # A test's worth of state: facts, decisions, read models, outbox, a policy change folded, a chunk size, a cookie.
    assert first.deliver(invoice())[0] == "handled"
    first.close_days(date(2026, 9, 5), date(2026, 10, 9))  # warned 10-09
    assert first.deliver(payment("PAY-1", date(2026, 10, 12), INV_1="10000.00"))[0] == "handled"
    go_live = RuleGoLiveSet(region_code="520100", rule="volume_completion_from", go_live=date(2026, 7, 1), source="test", set_by="OPS")
    outcome, folded = first.deliver(go_live)
    assert outcome == "handled"
    after = f"after={folded.type}/{folded.id}"  # refresh the book now, not within REFRESH_S
    assert first.get(f"/policy/regions/520100?on=2026-09-30&{after}")["volume_completion_from"] == "2026-07-01"
    day_close.CHUNK.size = 3
    first.client.cookies.set("session", "left over")
    written = rows_per_table(first.url)
    assert {"event_store", "outbox", "invoices", "decisions", "alerts", "policy_changes", "processed_events"} <= {
        name for name, count in written.items() if count}, written
    assert identities_used(first.url)

    second = shared_alerts(shared_apps, token)

    assert (second.client, second.url) == (first.client, first.url)  # the same app and database, nothing rebuilt
    assert rows_per_table(second.url) == rows_per_table(new)
    assert rows_per_table(second.url)["alembic_version"] == 1
    assert identities_used(second.url) == []
    assert second.get("/policy/regions/520100?on=2026-09-30")["volume_completion_from"] is None  # the packaged book's
    assert second.get("/policy/changes") == []
    assert day_close.CHUNK.size == Settings(database_url=new).day_close_chunk_size
    assert not second.client.cookies
    assert second.client.get("/invoices/INV-1", headers=second.headers).status_code == 404


def test_the_next_module_gets_the_same_default_app_on_tables_as_a_new_clone_gives(
    default_apps: DefaultApps, token: Token, service_database: Callable[[str], str]
) -> None:
    new = service_database("orders")
    h1 = token("H1", Role.INSTITUTION)
    first = default_apps.default("orders")
    assert deliver_contract(first.client, C1) == "handled"
    line = {"external_id": "L1", "contract_id": "C1", "accepted_quantity": 5, "accepted_on": "2026-09-01", "lot_number": "L1"}
    assert first.client.post("/institutions/H1/acceptances:batch", json={"lines": [line]}, headers=h1).json()["accepted"] == 1
    assert len(first.client.get("/institutions/H1/acceptances", headers=h1).json()) == 1

    second = default_apps.default("orders")  # as the next module's first test asks for it

    assert (second.client, second.url) == (first.client, first.url)
    assert rows_per_table(second.url) == rows_per_table(new)
    assert identities_used(second.url) == []
    assert second.client.get("/institutions/H1/acceptances", headers=h1).json() == []
