"""Every step of an upgrade gives up on a lock it cannot get, not only the first.

A migration that queues behind a long transaction also blocks every query
queued behind it: the service's whole table stops. The upgrade must fail and
be retried instead. Settlement's history gives a fitting pair of steps: from
``BEFORE``, step one creates a new table and step two alters ``withholds``.
"""
from __future__ import annotations

import subprocess
import sys

import psycopg
import pytest

from jicai_kit.migrations import upgrade
from tests.support import infra

SERVICE = "settlement"
BEFORE = "8a4f0c6d2e17"  # prepayments
FIRST_STEP = "b5e2d9f1c3a8"  # direct settlement: a new table, nothing locked
SECOND_STEP = "d41f7a2c9e60"  # decision ids up to 200: ALTER TABLE withholds
LOCKED_TABLE = "withholds"
# Runs the upgrade in its own process, so a hanging one can be killed: the test's own time limit.
UPGRADE = ("import sys; from jicai_kit.migrations import upgrade; "
           "upgrade(sys.argv[1], sys.argv[2], sys.argv[3], lock_timeout='1s')")
HANG_LIMIT_SECONDS = 120


def test_the_second_step_of_an_upgrade_fails_on_a_held_lock_instead_of_waiting(pg_base_url: str) -> None:
    url = infra.create_database(pg_base_url, "test_lock_timeout")
    try:
        upgrade(infra.package(SERVICE), url, BEFORE)
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as holder:
            holder.execute(f"LOCK TABLE {LOCKED_TABLE} IN ACCESS SHARE MODE")  # held until this transaction ends
            try:
                result = subprocess.run([sys.executable, "-c", UPGRADE, infra.package(SERVICE), url, SECOND_STEP],
                                        capture_output=True, text=True, timeout=HANG_LIMIT_SECONDS)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the upgrade still waited on the lock of {LOCKED_TABLE} after {HANG_LIMIT_SECONDS}s: no lock timeout on its second step")
            holder.rollback()
        assert result.returncode != 0, "the upgrade altered a table another transaction held a lock on"
        assert "lock timeout" in result.stderr, result.stderr[-2000:]
        assert infra.alembic_revision(url) == FIRST_STEP  # the first step committed on its own; only the second gave up

        upgrade(infra.package(SERVICE), url, SECOND_STEP)  # retried once the lock is gone
        assert infra.alembic_revision(url) == SECOND_STEP
    finally:
        infra.drop_database(url)
