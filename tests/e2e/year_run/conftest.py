"""``year_run``: one platform serving all five provinces through the 2026 agreement year."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.agreement_year import run_agreement_year, year_policy
from tests.e2e.system import System, start_system
from tests.support import infra


@pytest.fixture(scope="package")
def year_run() -> Iterator[tuple[System, dict[str, dict[str, Any]]]]:
    """One platform serving all five provinces through the 2026 agreement year."""
    system = start_system("year", env=year_policy(infra.TEST_RUN_DIR / "year-policy"))
    try:
        yield system, run_agreement_year(system)
    finally:
        system.stop_all()
