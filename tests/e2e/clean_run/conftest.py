"""``clean_run``: the reference run of the payment-breach flow."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from jicai_kit.auth import Role
from tests.e2e.flow import INSTITUTION, run_flow
from tests.e2e.system import start_system


@dataclass(frozen=True)
class CleanRun:
    """What the undisturbed run showed: the flow's observations (the reference every disturbed run must equal), and
    what alerts answered afterwards when asked to explain its withhold."""

    seen: dict[str, Any]
    why_withheld: dict[str, Any]
    """``GET /decisions/withhold-INV-001`` at the end of the run."""
    invoices_status: int
    """The status of ``GET /institutions/H001/invoices`` at the end of the run."""


@pytest.fixture(scope="package")
def clean_run() -> CleanRun:
    """One undisturbed run of the flow. Its system stops as soon as the run is read: no test asks it anything later,
    and its four services would otherwise idle (polling Kafka and PostgreSQL) through both disturbed runs."""
    system = start_system("clean")
    try:
        seen = run_flow(system)
        with system.client("alerts", "OPS", Role.OPERATOR) as alerts:
            why = alerts.get("/decisions/withhold-INV-001").json()
            invoices = alerts.get(f"/institutions/{INSTITUTION}/invoices")
        return CleanRun(seen, why, invoices.status_code)
    finally:
        system.stop_all()
