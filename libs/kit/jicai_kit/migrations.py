"""Alembic, the one way: each service has its own history, applied before it starts."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData


def alembic_config(service_dir: Path, database_url: str) -> Config:
    cfg = Config(str(service_dir / "alembic.ini"))
    cfg.set_main_option("script_location", str(service_dir / "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url)
    return cfg


def upgrade(service_dir: Path, database_url: str) -> None:
    command.upgrade(alembic_config(service_dir, database_url), "head")


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py`` (online mode, one transaction)."""
    from alembic import context
    from sqlalchemy import create_engine

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: pass it through jicai_kit.migrations.alembic_config")
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, transaction_per_migration=True)
        with context.begin_transaction():
            # Never queue behind a long lock in production: fail and retry instead.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            context.run_migrations()
    engine.dispose()


def autogenerate(service_dir: Path, database_url: str, message: str) -> None:
    """Developer tool: write a new migration from the metadata diff against ``database_url``."""
    command.upgrade(alembic_config(service_dir, database_url), "head")
    command.revision(alembic_config(service_dir, database_url), message=message, autogenerate=True)


if __name__ == "__main__":  # python -m jicai_kit.migrations services/orders postgresql+psycopg://... "message"
    import sys

    autogenerate(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
