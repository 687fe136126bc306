"""The CI check: no event or endpoint breaks against contracts/baseline/. Deliberately broken copies of the real
contracts prove it fails; additive ones prove it passes. Accept an intended break with ``make contracts``."""
from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from jicai_devstack.contracts import Contracts, accept, breaking_changes, current, load

INVOICE = "cn.jicai.orders.InvoiceReceived.v1.json"


@cache
def _current() -> Contracts:
    return current()


def _changed(change: Callable[[Contracts], object]) -> Contracts:
    now = copy.deepcopy(_current())
    change(now)
    return now


def test_no_event_or_endpoint_breaks_against_the_accepted_baseline() -> None:
    """Fails on a breaking change. If it is intended (a new event version is not: add it beside the old one),
    run ``make contracts`` and commit the baseline's diff for review."""
    assert breaking_changes(load(), _current()) == []


def test_the_baseline_holds_every_event_schema_and_every_services_openapi() -> None:
    baseline = load()
    assert INVOICE in baseline["events"] and "envelope.json" in baseline["events"]
    assert set(baseline["openapi"]) == {"contracts.json", "orders.json", "settlement.json", "alerts.json"}


def _drop_invoice_number(c: Contracts) -> None:
    c["events"][INVOICE]["properties"].pop("invoice_number")


def _narrow_channel(c: Contracts) -> None:
    c["events"]["cn.jicai.orders.DeliveryAccepted.v1.json"]["properties"]["channel"]["enum"] = ["platform"]


def _require_new_event_field(c: Contracts) -> None:
    c["events"][INVOICE]["properties"]["payer_reference"] = {"type": "string"}
    c["events"][INVOICE]["required"].append("payer_reference")


def _drop_envelope_attribute(c: Contracts) -> None:
    c["events"]["envelope.json"]["properties"].pop("partitionkey")


def _drop_event_type(c: Contracts) -> None:
    c["events"].pop("cn.jicai.clock.DayClosed.v1.json")


def _drop_endpoint(c: Contracts) -> None:
    c["openapi"]["settlement.json"]["paths"].pop("/payments/{payment_id}")


def _require_query_parameter(c: Contracts) -> None:
    operation = c["openapi"]["alerts.json"]["paths"]["/institutions/{institution_id}/alerts"]["get"]
    operation.setdefault("parameters", []).append({"in": "query", "name": "region", "required": True, "schema": {"type": "string"}})


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (_drop_invoice_number, "event cn.jicai.orders.InvoiceReceived.v1 data.invoice_number: removed"),
        (_narrow_channel, "event cn.jicai.orders.DeliveryAccepted.v1 data.channel: allowed values narrowed to ['platform']"),
        (_require_new_event_field, "event cn.jicai.orders.InvoiceReceived.v1 data.payer_reference: newly required"),
        (_drop_envelope_attribute, "envelope.partitionkey: removed"),
        (_drop_event_type, "event cn.jicai.clock.DayClosed.v1 data: removed"),
        (_drop_endpoint, "settlement API GET /payments/{payment_id}: removed"),
        (_require_query_parameter, "alerts API GET /institutions/{institution_id}/alerts: new required query parameter region"),
    ],
)
def test_a_deliberately_broken_copy_of_the_contracts_fails_the_check(change: Callable[[Contracts], None], finding: str) -> None:
    assert finding in breaking_changes(_current(), _changed(change))


def test_additive_changes_pass_the_check() -> None:
    def add(c: Contracts) -> None:
        c["events"][INVOICE]["properties"]["payer_reference"] = {"type": "string"}
        c["events"]["cn.jicai.clock.DayClosedWatermark.v1.json"] = {"type": "object", "properties": {}}
        c["openapi"]["settlement.json"]["paths"]["/refunds"] = {"get": {"responses": {}}}

    assert breaking_changes(_current(), _changed(add)) == []


def test_accepting_makes_an_intended_break_the_new_baseline(tmp_path: Path) -> None:
    broken = _changed(_drop_endpoint)
    accept(_current(), tmp_path)
    assert breaking_changes(load(tmp_path), broken) != []
    accept(broken, tmp_path)
    assert breaking_changes(load(tmp_path), broken) == []
    assert not (tmp_path / "openapi" / "settlement.json").read_text(encoding="utf-8").count('"/payments/{payment_id}"')
