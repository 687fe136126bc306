"""Policy changes on the running system, through the public APIs on real Kafka and PostgreSQL, each service its own
process: an operator sets R3's go-live for Guiyang at contracts, all four services fold it (``GET /policy/regions``),
and alerts decides R3 there at the next quarter end without any restart; a restart loses none, a rebuild of alerts'
read models reproduces the decision; a region assigned by event becomes writable in contracts and orders.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from jicai_devstack import services as procs
from jicai_kit.auth import Role
from jicai_kit.consistency import HEADER
from tests.e2e.flow import CONTRACT_SETUP, INSTITUTION, REGION, _if
from tests.e2e.system import System, eventually, start_system
from tests.support.tokens import auth_header

SERVICES = ("contracts", "orders", "settlement", "alerts")
R3 = {"from": "2026-07-01", "source": "the platform holds every acceptance since 2026-01-01"}


@pytest.fixture(scope="module")
def system() -> Iterator[System]:
    system = start_system("policy")
    try:
        yield system
    finally:
        system.stop_all()


def region_policy(system: System, service: str, region: str, on: str, token: str | None = None) -> dict[str, Any]:
    with system.client(service, "OPS", Role.OPERATOR) as client:
        response = client.get(f"/policy/regions/{region}", params={"on": on, **({"after": token} if token else {})})
        assert response.status_code == 200, f"{service}: {response.text}"
        return dict(response.json())


def test_a_go_live_set_on_the_running_system_is_folded_everywhere_and_decided_without_a_restart(system: System) -> None:
    with system.client("contracts", "OPS", Role.OPERATOR) as ops:
        for path, body in CONTRACT_SETUP:
            assert ops.post(path, json=body).status_code in (200, 201)
        before = region_policy(system, "alerts", REGION, "2026-09-30")
        assert before["volume_completion_from"] is None, "R3 is live nowhere as shipped"

        set_r3 = ops.put(f"/policy/regions/{REGION}/go-lives/volume_completion", json=R3)
        assert set_r3.status_code == 201, set_r3.text
        token = set_r3.headers[HEADER]
    event_id = token.split("/")[1]

    for service in SERVICES:  # ?after= waits until the service has stored it; the book then folds it
        shown = region_policy(system, service, REGION, "2026-09-30", token)
        assert shown["go_lives"]["volume_completion_from"] == {"go_live": "2026-07-01", "origin": {"kind": "event", "event_id": event_id}}, service
        assert (shown["profile_id"], shown["assignment_origin"]["kind"]) == ("guizhou-2020", "file")

    system.close_days(date(2026, 9, 29), date(2026, 9, 30))  # the clock may skip days: the quarter end is what counts
    with system.client("alerts", "OPS", Role.OPERATOR) as alerts:
        decided = eventually(lambda: _if(alerts.get(f"/institutions/{INSTITUTION}/volume-completion").json(),
                                         lambda j: any(p["period_end"] == "2026-09-30" for p in j["periods"])),
                             what="R3 decided at the quarter end", timeout=180)
        [period] = [p for p in decided["periods"] if p["period_end"] == "2026-09-30"]
        assert (period["profile_id"], Decimal(period["ratio"])) == ("guizhou-2020", Decimal(0)), "nothing bought: completion 0"
        assert decided["status"] == "suspended", "below Guizhou's suspension line of 0.70 (000 §五(三))"
        assert [p["period_end"] for p in decided["periods"]] == ["2026-09-30"], "period ends before the go-live are never evaluated"
        view = alerts.get(f"/institutions/{INSTITUTION}/volume-completion").json()

    # a restart loses none: the change is in each service's policy_changes
    system.kill("orders")
    system.start("orders")
    assert region_policy(system, "orders", REGION, "2026-09-30")["volume_completion_from"] == "2026-07-01"

    # a rebuild of alerts' read models (the operators' command, service stopped) reproduces the decision and the book
    procs.stop_service(system.run_dir, "alerts")
    env = {**os.environ, "JICAI_ALERTS_DATABASE_URL": system.database_urls["alerts"]}
    rebuilt = procs.run_command("alerts", ["--rebuild-read-models"], env, system.run_dir)
    assert rebuilt.returncode == 0, rebuilt.stderr
    system.start("alerts")
    with system.client("alerts", "OPS", Role.OPERATOR) as alerts:
        assert alerts.get(f"/institutions/{INSTITUTION}/volume-completion").json() == view
    assert region_policy(system, "alerts", REGION, "2026-09-30")["volume_completion_from"] == "2026-07-01"


def test_a_region_assigned_by_event_becomes_writable_in_every_service(system: System) -> None:
    beijing = {"institution_id": "BJ01", "name": "北京市某医院", "pooling_region_code": "110100", "county_code": "110101"}
    contract = {"contract_id": "C-BJ01", "institution_id": "BJ01", "manufacturer_id": "M001", "distributor_id": "D001", "product_id": "P001",
                "unit_price": "1.98", "agreed_quantity": 1200, "cycle_start": "2026-01-01", "cycle_end": "2026-12-31", "signed_on": "2025-12-20"}
    with system.client("contracts", "OPS", Role.OPERATOR) as ops:
        for path, body in (*CONTRACT_SETUP[1:4], ("/institutions", beijing)):
            assert ops.post(path, json=body).status_code in (200, 201)
        refused = ops.post("/contracts", json=contract)
        assert refused.status_code == 422 and "110100 has no policy profile assigned" in refused.text

        assigned = ops.put("/policy/regions/110100/assignments/2025-01-01",
                           json={"profile_id": "hubei-2019", "version": 1, "region_name": "北京市", "source": "test assignment"})
        assert assigned.status_code == 201, assigned.text
        signed = ops.post("/contracts", json=contract)
        assert signed.status_code == 201, signed.text
    tokens = [assigned.headers[HEADER], signed.headers[HEADER]]
    push = {"lines": [{"external_id": "HIS-BJ-1", "contract_id": "C-BJ01", "accepted_quantity": 10, "rejected_quantity": 0,
                       "accepted_on": "2026-03-02", "lot_number": "B1"}]}
    with system.client("orders", "BJ01", Role.INSTITUTION) as his:
        pushed = his.post("/institutions/BJ01/acceptances:batch", json=push, params=[("after", t) for t in tokens])
        assert pushed.status_code in (200, 201), pushed.text
        assert pushed.json()["results"][0]["status"] == "accepted", pushed.text
    for service in SERVICES:
        assert region_policy(system, service, "110100", "2026-03-02", tokens[0])["profile_id"] == "hubei-2019", service
    with system.client("alerts", "OPS", Role.OPERATOR) as alerts:
        assert eventually(lambda: alerts.get("/dead-letters").json()["total"] == 0 and not alerts.get("/consumers/parked").json(),
                          what="nothing dead-lettered or parked")


def test_no_instance_needs_a_restart_to_see_a_change_made_after_it_started(system: System) -> None:
    second = system.start_second_instance("settlement")
    try:
        with system.client("contracts", "OPS", Role.OPERATOR) as ops:
            changed = ops.put("/policy/regions/520200/go-lives/volume_completion", json={"from": "2026-10-01", "source": "Q4 on"})
            assert changed.status_code == 201, changed.text
        headers = auth_header("OPS", Role.OPERATOR)
        with httpx.Client(base_url=second.url, headers=headers, timeout=30) as other:
            shown = eventually(lambda: _if(other.get("/policy/regions/520200", params={"on": "2026-12-31"}).json(),
                                           lambda j: j["volume_completion_from"] == "2026-10-01"), what="the second instance to fold it", timeout=10)
        assert shown["go_lives"]["volume_completion_from"]["origin"]["kind"] == "event"
    finally:
        system.kill_second_instance("settlement")
