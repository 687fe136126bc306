"""Replay: every service's read models, rebuilt from its event store alone, equal what the live system built.

Runs on the platform after the five-province agreement year (``year_run``): for each
service in turn the process is stopped, every read-model table is emptied and
replayed with the operators' command (``jicai-serve SERVICE --rebuild-read-models``),
and the tables and the public API must come back exactly as they were.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, create_engine, select

from jicai_devstack import services as procs
from jicai_kit.auth import Role
from tests.e2e.agreement_year import CASES
from tests.e2e.system import System

pytestmark = pytest.mark.e2e


def _read_models(service: str) -> tuple[Table, ...]:
    tables: tuple[Table, ...] = importlib.import_module(f"jicai_{service}.adapters.tables").READ_MODELS
    return tables


def _snapshot(url: str, tables: tuple[Table, ...]) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr) for t in tables}
    finally:
        engine.dispose()


def _public_views(system: System) -> dict[str, Any]:
    views: dict[str, Any] = {}
    for case in CASES:
        h, inv = case.institution, case.invoice
        for service, path in (
            ("alerts", f"/invoices/{inv}"), ("alerts", f"/institutions/{h}/alerts?include_closed=true"), ("alerts", f"/institutions/{h}/non-winning"),
            ("settlement", f"/invoices/{inv}"), ("settlement", f"/institutions/{h}/settlement-status"), ("settlement", f"/institutions/{h}/payments"),
            ("orders", f"/invoices/{inv}"), ("orders", f"/institutions/{h}/acceptances"), ("contracts", f"/contracts?institution_id={h}"),
        ):
            with system.client(service, "OPS", Role.OPERATOR) as client:
                views[f"{service} {path}"] = client.get(path).json()
    return views


@pytest.mark.parametrize("service", list(procs.SERVICES))
def test_rebuilding_read_models_from_the_event_log_gives_the_same_state(year_run: Any, service: str) -> None:
    system, _ = year_run
    url = system.database_urls[service]
    tables = _read_models(service)
    views_before = _public_views(system)
    procs.stop_service(system.run_dir, service)
    before = _snapshot(url, tables)
    assert any(before.values()), f"{service} projected nothing during the year"

    serve = Path(sys.executable).with_name("jicai-serve")
    env = {**os.environ, f"JICAI_{service.upper()}_DATABASE_URL": url}
    result = subprocess.run([str(serve), service, "--rebuild-read-models"], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    after = _snapshot(url, tables)
    for name in before:
        assert after[name] == before[name], f"{service}.{name} differs after the replay"

    system.start(service)
    assert _public_views(system) == views_before
