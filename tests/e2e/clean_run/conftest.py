"""``clean_run``: the reference run of the payment-breach flow."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.flow import run_flow
from tests.e2e.system import System, start_system


@pytest.fixture(scope="package")
def clean_run() -> Iterator[tuple[System, dict[str, Any]]]:
    """One undisturbed run of the flow: the reference every disturbed run must equal."""
    system = start_system("clean")
    try:
        yield system, run_flow(system)
    finally:
        system.stop_all()
