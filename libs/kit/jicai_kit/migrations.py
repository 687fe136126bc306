"""Alembic, the one way: each service has its own history, applied before it starts.

A service's history is package data, ``<package>/migrations`` (found with
``importlib.resources``, so an installed wheel migrates as a checkout does),
and its configuration is built here rather than read from an ``alembic.ini``.
"""
from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, make_url

# Never queue behind a long lock in production (and hold every query queued
# behind us): a step that cannot get its lock fails, and the upgrade is retried.
LOCK_TIMEOUT = "10s"
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"  # 20261129_<rev>_<slug>.py, sorted by date


def script_directory(package: str) -> Traversable:
    """``<package>/migrations``: the service's env.py, script template and versions."""
    return resources.files(package) / "migrations"


def alembic_config(package: str, database_url: str, *, lock_timeout: str = LOCK_TIMEOUT) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", f"{package}:migrations")  # Alembic resolves it with importlib.resources
    cfg.set_main_option("file_template", FILE_TEMPLATE)
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    cfg.attributes["lock_timeout"] = lock_timeout
    return cfg


@functools.cache
def heads(package: str) -> frozenset[str]:
    """The head revisions of the service's history, read once per process: Alembic reads and runs every script file
    to find them (the test launcher reads them before it forks its services)."""
    return frozenset(ScriptDirectory.from_config(alembic_config(package, "postgresql://unused")).get_heads())


def at_heads(package: str, database_url: str) -> bool:
    """The database is at the head of the service's history: one query on one plain connection."""
    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        try:
            current = {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
        except psycopg.errors.UndefinedTable:
            return False  # never migrated
    return current == heads(package)


def upgrade(package: str, database_url: str, revision: str = "head", *, lock_timeout: str = LOCK_TIMEOUT) -> None:
    """Migrate to ``revision``. A database already at head (every start but the first after a deploy) is left without
    running Alembic's environment: its engine, dialect set-up, table reflection and version queries were two thirds of
    the CPU of a ``jicai-serve`` start before it served, for an answer a single query gives."""
    if revision == "head" and at_heads(package, database_url):
        return
    command.upgrade(alembic_config(package, database_url, lock_timeout=lock_timeout), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``: online mode, one transaction per migration.

    ``lock_timeout`` is set for the whole session of the migration connection,
    not ``SET LOCAL`` in a transaction: with a transaction per migration a
    local setting ends with the first step's commit, and Alembic's
    ``on_version_apply`` hook runs after a step's operations, too late for
    them. A session setting covers every step, including ones Alembic runs
    outside a transaction (``autocommit_block``), whatever a new migration does.
    """
    from alembic import context
    from sqlalchemy import create_engine, text

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass it through jicai_kit.migrations.alembic_config")
    engine = create_engine(url)
    with engine.connect() as connection:
        lock_timeout = context.config.attributes.get("lock_timeout", LOCK_TIMEOUT)
        connection.execute(text("SELECT set_config('lock_timeout', :value, false)"), {"value": lock_timeout})
        connection.commit()  # a session setting made in a transaction rolled back would be undone
        context.configure(connection=connection, target_metadata=target_metadata, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def autogenerate(package: str, database_url: str, message: str) -> None:
    """Developer tool: write a new migration from the metadata diff against ``database_url`` (into a checkout's package)."""
    command.upgrade(alembic_config(package, database_url), "head")
    command.revision(alembic_config(package, database_url), message=message, autogenerate=True)


if __name__ == "__main__":  # python -m jicai_kit.migrations jicai_orders postgresql+psycopg://... "message"
    import sys

    autogenerate(sys.argv[1], sys.argv[2], sys.argv[3])
