"""End-to-end fixtures: whole systems of separate processes on real Kafka and PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.agreement_year import run_agreement_year, year_policy
from tests.e2e.flow import run_flow
from tests.e2e.system import System, start_system
from tests.support import infra


@pytest.fixture(scope="session")
def clean_run() -> Iterator[tuple[System, dict[str, Any]]]:
    """One undisturbed run of the flow: the reference every disturbed run must equal."""
    system = start_system("clean")
    try:
        yield system, run_flow(system)
    finally:
        system.stop_all()


VOLATILE = {"caused_by", "causation_id", "correlation_id", "time"}


def stable(value: Any) -> Any:
    """Drop what legitimately differs between two runs: event ids and wall-clock timestamps."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE and not k.endswith(("_at", "event_id"))}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


@pytest.fixture(scope="session")
def year_run() -> Iterator[tuple[System, dict[str, dict[str, Any]]]]:
    """One platform serving all five provinces through the 2026 agreement year."""
    system = start_system("year", env=year_policy(infra.TEST_RUN_DIR / "year-policy"))
    try:
        yield system, run_agreement_year(system)
    finally:
        system.stop_all()
