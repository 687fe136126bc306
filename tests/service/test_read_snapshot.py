"""A service's reads (``jicai_kit.commands.query``, ``read_rows``, ``GET /clock``) see one snapshot: a view read in
several statements is never torn between two commits (a volume-completion view once showed a period decided with the
status of before the decision, and an e2e test read it so under load)."""
from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy import text

from jicai_kit.commands import query, read_rows
from tests.support.shared_apps import DefaultApps


def test_a_commit_between_two_statements_of_one_read_is_not_seen_by_the_second(default_apps: DefaultApps) -> None:
    app = default_apps.default("contracts")
    runtime: Any = app.app.state.runtime
    url = app.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as writer:
        writer.execute("CREATE TABLE snapshot_probe (n int)")
        try:
            def commit_one() -> None:
                writer.execute("INSERT INTO snapshot_probe VALUES (1)")

            async def read_with_a_commit_between(uow: Any) -> tuple[int, int]:
                first = await uow.session.scalar(text("SELECT count(*) FROM snapshot_probe"))
                commit_one()
                return first, await uow.session.scalar(text("SELECT count(*) FROM snapshot_probe"))

            async def rows_with_a_commit_between(connection: Any) -> tuple[int, int]:
                first = await connection.scalar(text("SELECT count(*) FROM snapshot_probe"))
                commit_one()
                return first, await connection.scalar(text("SELECT count(*) FROM snapshot_probe"))

            assert app.client.portal is not None
            assert app.client.portal.call(query, runtime, read_with_a_commit_between) == (0, 0)
            assert app.client.portal.call(read_rows, runtime, rows_with_a_commit_between) == (1, 1)
            assert writer.execute("SELECT count(*) FROM snapshot_probe").fetchone() == (2,), "both commits are there"
        finally:
            writer.execute("DROP TABLE snapshot_probe")
