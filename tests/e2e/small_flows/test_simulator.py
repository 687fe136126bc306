"""``jicai-simulate`` against a whole platform: what it says it did is what the platform holds and decided."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jicai_kit.auth import Role
from tests.e2e.system import System, eventually
from tests.support.tokens import SIGNING_KEY_FILE

pytestmark = pytest.mark.e2e


def test_a_tiny_simulation_leaves_the_platform_in_the_state_the_simulator_reports(system: System) -> None:
    urls = {f"--{name}-url": system.processes[name].url for name in ("contracts", "orders", "settlement", "alerts")}
    argv = [str(Path(sys.executable).with_name("jicai-simulate")), "--profile", "guizhou-2020", "--institutions", "4", "--days", "2",
            "--seed", "3", "--start", "2026-03-02", "--bootstrap", system.bootstrap, "--json"]
    for option, url in urls.items():
        argv += [option, url]
    env = {**os.environ, "JICAI_AUTH_SIGNING_KEY_FILE": str(SIGNING_KEY_FILE), "JICAI_KAFKA_NAMESPACE": system.namespace}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]
    *table, last = done.stdout.strip().splitlines()
    said = json.loads(last)
    hospitals = said["institutions"]
    for iid, h in hospitals.items():  # the summary table: one row per institution
        assert any(iid in row and h["behaviour"] in row for row in table), table
    assert sorted(h["behaviour"] for h in hospitals.values()) == ["late", "never", "on_time", "partial"]

    operator = system.client("alerts", "OPS", Role.OPERATOR)
    for iid, h in hospitals.items():
        with system.client("orders", iid, Role.INSTITUTION) as his, system.client("settlement", iid, Role.INSTITUTION) as payer:
            assert len(his.get(f"/institutions/{iid}/acceptances").json()) == h["lines_pushed"]
            assert sorted(i["invoice_id"] for i in his.get(f"/institutions/{iid}/invoices").json()) == sorted(h["invoices"])
            assert len(payer.get(f"/institutions/{iid}/payments").json()) == h["payments"]

        def warnings(iid: str = iid) -> dict[str, str]:
            alerts = operator.get(f"/institutions/{iid}/alerts", params={"include_closed": "true"}).json()
            return {a["invoice_id"]: a["status"] for a in alerts if a["kind"] == "overdue_warning"}

        # A late payment closes the warning it came too late to prevent; partial and missing payments leave it open.
        expected = {i: "closed" if h["behaviour"] == "late" else "open" for i in h["expected_warnings"]}
        def as_expected(iid: str = iid, expected: dict[str, str] = expected) -> bool:
            return warnings(iid) == expected

        eventually(as_expected, what=f"{iid}'s warnings as the simulator expects ({expected})")
    operator.close()

    by_behaviour = {h["behaviour"]: h for h in hospitals.values()}
    assert by_behaviour["on_time"]["expected_warnings"] == []
    assert by_behaviour["late"]["expected_warnings"] and by_behaviour["partial"]["expected_warnings"]
    late = by_behaviour["late"]
    assert late["payments"] == len(late["invoices"])  # paid in full, after the deadline: warned all the same
