"""Operators rebuild a service's read models from its event store with one command."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from jicai_contracts.entrypoints.app import build_app
from jicai_contracts.settings import Settings
from jicai_kit.auth import Role
from tests.support.in_process_client import InProcessClient


def _snapshot(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("select institution_id, name, pooling_region_code from institutions order by 1")).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_read_models_come_back_identical_after_the_rebuild_command(
    service_database: Callable[[str], str], token: Callable[[str, Role], dict[str, str]]
) -> None:
    url = service_database("contracts")
    with InProcessClient(build_app(Settings(database_url=url, run_workers=False))) as client:
        for n in range(3):
            body = {"institution_id": f"H00{n}", "name": f"医院{n}", "pooling_region_code": "520100", "county_code": "520102"}
            assert client.post("/institutions", json=body, headers=token("OPS", Role.OPERATOR)).status_code == 201
    before = _snapshot(url)
    engine = create_engine(url)
    with engine.begin() as conn:  # a damaged read model: a row lost, a row changed
        conn.execute(text("delete from institutions where institution_id = 'H000'"))
        conn.execute(text("update institutions set name = 'wrong' where institution_id = 'H001'"))
    engine.dispose()

    serve = Path(sys.executable).with_name("jicai-serve")
    result = subprocess.run(
        [str(serve), "contracts", "--rebuild-read-models"], env={**os.environ, "JICAI_CONTRACTS_DATABASE_URL": url},
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "rebuilt from 3 stored events" in result.stdout
    assert "contracts: rebuilding read models" in result.stderr and "3/3" in result.stderr  # the progress bar, on stderr
    assert _snapshot(url) == before
