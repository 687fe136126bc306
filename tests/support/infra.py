"""Real PostgreSQL and Kafka for the test suite, started by the project itself.

Tests use their own run directory (``.run/test``) so they never touch the
system ``make up`` started. ``JICAI_TEST_DATABASE_URL_BASE`` and
``KAFKA_BOOTSTRAP_SERVERS`` point the suite at servers that already run.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import psycopg

from jicai_kit.migrations import upgrade

REPO = Path(__file__).resolve().parents[2]
TEST_RUN_DIR = REPO / ".run" / "test"
SERVICES = ("contracts", "orders", "settlement", "alerts")


def service_dir(service: str) -> Path:
    return REPO / "services" / service


def postgres_base_url() -> str:
    """``postgresql+psycopg://user@host:port`` of a running server (started if needed)."""
    external = os.environ.get("JICAI_TEST_DATABASE_URL_BASE")
    if external:
        return external.rstrip("/")
    from jicai_devstack.postgres import start_postgres

    instance = start_postgres(TEST_RUN_DIR / "postgres", fsync_off=True)
    return instance.url_base


def create_database(base_url: str, prefix: str) -> str:
    """A new empty database; returns its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(base_url) + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}"


def drop_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    with psycopg.connect(_libpq(base) + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_database(base_url: str, service: str) -> str:
    url = create_database(base_url, f"test_{service}")
    upgrade(service_dir(service), url)
    return url


def kafka_bootstrap() -> str:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        return external
    from jicai_devstack.kafka import start_kafka

    return start_kafka(TEST_RUN_DIR / "kafka").bootstrap


def _libpq(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")


def stop_test_infrastructure() -> None:
    """Stop what the suite started (never an external server); data stays for the next run."""
    if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        from jicai_devstack.kafka import stop_kafka

        stop_kafka(TEST_RUN_DIR / "kafka")
    if not os.environ.get("JICAI_TEST_DATABASE_URL_BASE"):
        from jicai_devstack.postgres import stop_postgres

        stop_postgres(TEST_RUN_DIR / "postgres")
