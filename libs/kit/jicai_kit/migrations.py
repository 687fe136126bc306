"""Alembic, the one way: each service has its own history, applied before it starts."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData

# Never queue behind a long lock in production (and hold every query queued
# behind us): a step that cannot get its lock fails, and the upgrade is retried.
LOCK_TIMEOUT = "10s"


def alembic_config(service_dir: Path, database_url: str, *, lock_timeout: str = LOCK_TIMEOUT) -> Config:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url)
    cfg.attributes["lock_timeout"] = lock_timeout
    return cfg


def upgrade(service_dir: Path, database_url: str, revision: str = "head", *, lock_timeout: str = LOCK_TIMEOUT) -> None:
    command.upgrade(alembic_config(service_dir, database_url, lock_timeout=lock_timeout), revision)


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


def autogenerate(service_dir: Path, database_url: str, message: str) -> None:
    """Developer tool: write a new migration from the metadata diff against ``database_url``."""
    command.upgrade(alembic_config(service_dir, database_url), "head")
    command.revision(alembic_config(service_dir, database_url), message=message, autogenerate=True)


if __name__ == "__main__":  # python -m jicai_kit.migrations services/orders postgresql+psycopg://... "message"
    import sys

    autogenerate(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
