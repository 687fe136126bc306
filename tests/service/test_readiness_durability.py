"""``/readyz`` in production refuses a database that may lose committed writes, naming the setting.

The test cluster itself runs with ``fsync=off`` (fast, throw-away), so it is
exactly such a database; ``synchronous_commit=off`` is set on the test's own
database, the way an operator could set it on a service's database.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import psycopg

from jicai_kit.keys import SigningKey, write_public_keys
from jicai_orders.entrypoints.app import build_app
from jicai_orders.settings import Settings
from tests.support.in_process_client import InProcessClient

NO_KAFKA = "127.0.0.1:1"  # readiness fails on Kafka too; the test looks at the database's own check


def _production_keys() -> Path:
    """A public key set production accepts (not a development key)."""
    path = Path(tempfile.mkdtemp(prefix="jicai-prod-keys-")) / "public-keys.json"
    write_public_keys(path, [SigningKey.generate("platform-2026-11")])
    return path


def _readyz(url: str, environment: Literal["test", "production"]) -> tuple[int, dict[str, Any]]:
    settings = Settings(database_url=url, run_workers=False, environment=environment, auth_public_keys=_production_keys(),
                        kafka_bootstrap_servers=NO_KAFKA)
    with InProcessClient(build_app(settings)) as client:
        response = client.get("/readyz")
    return response.status_code, response.json()


def test_production_is_not_ready_on_a_database_without_fsync(service_database: Callable[[str], str]) -> None:
    status, body = _readyz(service_database("orders"), "production")
    assert status == 503
    assert body["checks"]["database"] is True and body["checks"]["database_durable"] is False
    assert [r.split(":")[0] for r in body["reasons"]] == ["PostgreSQL runs with fsync=off"]


def test_production_names_synchronous_commit_off_set_on_its_database(service_database: Callable[[str], str]) -> None:
    url = service_database("orders")
    base, name = url.rsplit("/", 1)
    with psycopg.connect(base.replace("postgresql+psycopg://", "postgresql://") + "/postgres", autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    status, body = _readyz(url, "production")
    assert status == 503 and body["checks"]["database_durable"] is False
    assert any(r.startswith("PostgreSQL runs with synchronous_commit=off:") for r in body["reasons"]), body


def test_outside_production_the_test_cluster_is_accepted(service_database: Callable[[str], str]) -> None:
    _, body = _readyz(service_database("orders"), "test")
    assert body["checks"]["database"] is True
    assert "database_durable" not in body["checks"] and "reasons" not in body
