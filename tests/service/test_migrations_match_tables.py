"""Each service's Alembic history builds exactly the schema its code declares.

A column widened in ``tables.py`` without a migration (or the reverse) would
only fail in production, on the first long value; this compares a freshly
migrated database with the table definitions, type lengths included.
"""
from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from tests.support import infra

SERVICES = ("contracts", "orders", "settlement", "alerts", "console")


@pytest.mark.parametrize("service", SERVICES)
def test_the_migrated_schema_equals_the_declared_tables(pg_base_url: str, service: str) -> None:
    metadata: MetaData = importlib.import_module(f"jicai_{service}.adapters.tables").metadata
    url = infra.migrated_database(pg_base_url, service)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": False})
            differences = [d for d in compare_metadata(context, metadata) if not (isinstance(d, tuple) and d[0] == "remove_table"
                                                                                 and d[1].name == "alembic_version")]
    finally:
        engine.dispose()
        infra.drop_database(url)
    assert differences == [], f"{service}: migrations and tables.py differ: {differences}"
