"""Alerts folds the policy topic on real PostgreSQL: an invoice from a region this service has not seen assigned yet
is a fault of ours, not the fact's (orders accepted it at its door, with a book that had the assignment): it is
retried and would park its partition with that reason, never dead-lettered; once the assignment is folded it is
decided like any other, with the assigned profile."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from jicai_events.catalog import RegionProfileAssigned, RuleGoLiveSet
from jicai_events.dead_letters import Origin
from jicai_events.envelope import Envelope
from jicai_kit.runtime import PolicyNotFolded
from tests.service.alerts.test_flow import Alerts, alerts, invoice

__all__ = ["alerts"]

BEIJING = RegionProfileAssigned(region_code="110100", region_name="北京市", profile_id="hubei-2019", version=1,
                                effective_from=date(2026, 1, 1), source="test assignment", assigned_by="OPS")


def test_a_fact_from_a_region_not_folded_yet_waits_for_the_assignment_and_is_never_dead_lettered(alerts: Alerts) -> None:
    beijing_invoice = Envelope.wrap(invoice("INV-BJ", region="110100"), time=datetime.now(UTC))
    consumer = alerts.app.state.runtime.event_consumer(alerts.app.state.runtime.consumers[0])
    with pytest.raises(PolicyNotFolded, match="110100.*policy book is behind"):
        alerts.portal.call(lambda: consumer.deliver(beijing_invoice, origin=Origin("jicai.orders.events.v1", 0, 7)))
    assert alerts.get("/dead-letters")["total"] == 0, "not the fact's fault: never a dead letter"

    assert alerts.deliver(BEIJING)[0] == "handled"
    assert alerts.deliver(beijing_invoice)[0] == "handled"

    tracked = alerts.get("/invoices/INV-BJ")
    # Hubei 003: 30 days from acceptance (09-01) → 10-01, in the National Day holiday → the first working day after it
    assert (tracked["profile_id"], tracked["deadline"]) == ("hubei-2019", "2026-10-08")
    shown = alerts.get("/policy/regions/110100?on=2026-09-05")
    assert shown["assignment_origin"] == {"kind": "event", "event_id": alerts.get("/policy/changes")[0]["event_id"]}


def test_a_stored_change_is_folded_by_a_new_runtime_and_stored_once(alerts: Alerts) -> None:
    go_live = RuleGoLiveSet(region_code="520100", rule="volume_completion_from", go_live=date(2026, 7, 1), source="test", set_by="OPS")
    delivered = alerts.deliver(go_live)
    assert alerts.deliver(delivered[1])[0] == "duplicate"
    assert [c["event_id"] for c in alerts.get("/policy/changes")] == [delivered[1].id]
    assert alerts.get("/policy/regions/520100?on=2026-09-30")["volume_completion_from"] == "2026-07-01"
