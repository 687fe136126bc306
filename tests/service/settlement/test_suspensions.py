"""Suspended monthly settlement (R3) on real PostgreSQL, decisions delivered through the real consumer path.

H1 at 65% of its Q1 2026 target: suspended from 2026-04-01; resumed 2026-05-14 once it caught up.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import SettlementResumed, SettlementSuspended, SettlementWithheld
from jicai_kit.auth import Role
from jicai_settlement.bootstrap import DECISIONS

Auth = Callable[[str, Role], dict[str, str]]
SUSPENSION = "volume-suspension-H1-2026-03-31"


@pytest.fixture
def fund(token: Auth) -> dict[str, str]:
    return token("FUND-520100", Role.FUND)


def _deliver(client: TestClient, event: IntegrationEvent | Envelope) -> str:
    envelope = event if isinstance(event, Envelope) else Envelope.wrap(event, time=datetime.now(UTC))
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return str(client.portal.call(runtime.event_consumer(DECISIONS).deliver, envelope))  # type: ignore[union-attr]


def _suspended() -> SettlementSuspended:
    return SettlementSuspended(
        decision_id=SUSPENSION, institution_id="H1", profile_id="guizhou-2020", profile_version=1, caused_by=("evt-day",),
        period_end=date(2026, 3, 31), ratio=Decimal("0.6500"), suspend_below=Decimal("0.70"), suspended_from=date(2026, 4, 1),
    )


def _resumed() -> SettlementResumed:
    return SettlementResumed(
        decision_id="volume-resumption-H1-2026-03-31", institution_id="H1", profile_id="guizhou-2020", profile_version=1,
        caused_by=("evt-suspension", "evt-day"), suspension_decision_id=SUSPENSION, resumed_on=date(2026, 5, 14),
        reason="target_met",
    )


def _report(client: TestClient, fund: dict[str, str], month: str) -> Any:
    body = {"settlement_id": f"MS-H1-{month}", "institution_id": "H1", "month": month, "amount": "80000.00"}
    response = client.post("/monthly-settlements", json=body, headers=fund)
    assert response.status_code == 201, response.text
    return response.json()["status"]


def test_settlement_is_suspended_from_the_next_month_then_released_on_resumption(client: TestClient, fund: dict[str, str]) -> None:
    assert _deliver(client, _suspended()) == "handled"

    status = client.get("/institutions/H1/settlement-status", headers=fund).json()
    assert status["status"] == "suspended" and status["active_withholds"] == []
    [active] = status["active_suspensions"]
    assert (active["decision_id"], active["ratio"], active["period_end"], active["suspended_from"]) == (
        SUSPENSION, "0.6500", "2026-03-31", "2026-04-01",
    )
    assert _report(client, fund, "2026-03") == "issued"
    assert _report(client, fund, "2026-04") == "suspended"

    assert _deliver(client, _resumed()) == "handled"

    status = client.get("/institutions/H1/settlement-status", headers=fund).json()
    assert (status["status"], status["active_suspensions"]) == ("normal", [])
    assert [(x["resumed_on"], x["resume_reason"]) for x in status["suspensions"]] == [("2026-05-14", "target_met")]
    settlements = {m["month"]: m for m in client.get("/institutions/H1/monthly-settlements", headers=fund).json()}
    assert (settlements["2026-04"]["status"], settlements["2026-04"]["released_on"]) == ("released", "2026-05-14")
    assert settlements["2026-04"]["suspended_by"] == [SUSPENSION] and "65.00%" in settlements["2026-04"]["reason"]
    assert settlements["2026-03"]["status"] == "issued"
    assert _report(client, fund, "2026-05") == "issued"


def test_withheld_and_suspended_show_both(client: TestClient, fund: dict[str, str]) -> None:
    _deliver(client, _suspended())
    _deliver(client, SettlementWithheld(
        decision_id="W1", institution_id="H1", profile_id="guizhou-2020", profile_version=1, caused_by=("evt-warning-1",),
        invoice_id="INV-1", warned_on=date(2026, 5, 1), withheld_from=date(2026, 5, 15), outstanding_amount=Decimal("300.00"),
    ))

    status = client.get("/institutions/H1/settlement-status", headers=fund).json()

    assert status["status"] == "withheld_and_suspended"
    assert [w["decision_id"] for w in status["active_withholds"]] == ["W1"]
    assert [x["decision_id"] for x in status["active_suspensions"]] == [SUSPENSION]


def test_the_same_decisions_delivered_twice_change_nothing(client: TestClient, fund: dict[str, str]) -> None:
    suspended = Envelope.wrap(_suspended(), time=datetime.now(UTC))
    resumed = Envelope.wrap(_resumed(), time=datetime.now(UTC))
    assert _deliver(client, suspended) == "handled"
    assert _deliver(client, suspended) == "duplicate"
    assert _deliver(client, _suspended()) == "handled"  # republished under a new envelope id
    _report(client, fund, "2026-04")
    assert _deliver(client, resumed) == "handled"
    before = client.get("/institutions/H1/monthly-settlements", headers=fund).json()

    assert _deliver(client, resumed) == "duplicate"
    assert _deliver(client, _resumed()) == "handled"
    assert _deliver(client, _suspended()) == "handled"  # the old suspension again after its resumption does not suspend again

    assert client.get("/institutions/H1/monthly-settlements", headers=fund).json() == before
    assert client.get("/institutions/H1/settlement-status", headers=fund).json()["status"] == "normal"


def test_a_resumption_of_a_suspension_settlement_never_saw_is_not_silently_skipped(client: TestClient) -> None:
    with pytest.raises(Exception, match="suspension_decision_id"):
        _deliver(client, _resumed())
