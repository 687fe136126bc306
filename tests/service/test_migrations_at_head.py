"""``jicai-serve`` runs Alembic only for a database behind its history's head; one at head is left as it is.

Every start but the first after a deploy finds its database at head, so the start compares the database's revision
with the history's heads in one query (``jicai_kit.migrations.at_heads``) instead of running Alembic's environment.
"""
from __future__ import annotations

import pytest
from alembic import command

from jicai_kit import migrations
from tests.support import infra

SERVICE = "settlement"
OLDER = "8a4f0c6d2e17"  # prepayments: steps of the history follow it


def test_a_database_behind_or_empty_is_migrated_to_the_head(pg_base_url: str) -> None:
    package = infra.package(SERVICE)
    (head,) = migrations.heads(package)
    url = infra.create_database(pg_base_url, "test_migrate_behind")
    try:
        assert not migrations.at_heads(package, url), "a database never migrated (no alembic_version) was taken for one at head"
        migrations.upgrade(package, url, OLDER)
        assert not migrations.at_heads(package, url)
        migrations.upgrade(package, url)
        assert infra.alembic_revision(url) == head
        assert migrations.at_heads(package, url)
    finally:
        infra.drop_database(url)


def test_a_database_at_the_head_is_left_without_running_alembic(pg_base_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    package = infra.package(SERVICE)
    url = infra.migrated_database(pg_base_url, SERVICE)
    try:
        def refuse(*_: object, **__: object) -> None:
            raise AssertionError("Alembic ran for a database at head")

        monkeypatch.setattr(command, "upgrade", refuse)
        migrations.upgrade(package, url)
        assert infra.alembic_revision(url) in migrations.heads(package)
    finally:
        infra.drop_database(url)
