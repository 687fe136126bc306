"""What other platforms read on the wire: CloudEvents envelopes with exact money."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from jicai_events import Envelope
from jicai_events.base import EventRegistry, IntegrationEvent
from jicai_events.catalog import DayClosed, InvoiceLine, InvoiceReceived, PaymentAllocation, PaymentRecorded
from jicai_events.schemas import SCHEMA_DIR, render_all
from jicai_events.topics import ALL_TOPICS, CLOCK, ORDERS, topic_for


def _invoice(amount: str = "1234.50") -> InvoiceReceived:
    return InvoiceReceived(
        invoice_id="INV-1",
        invoice_number="52001234",
        institution_id="H001",
        pooling_region_code="520100",
        distributor_id="D001",
        issued_on=date(2026, 3, 1),
        received_on=date(2026, 3, 2),
        amount=Decimal(amount),
        lines=(
            InvoiceLine(
                acceptance_id="H001:L1", contract_id="C1", quantity=100, unit_price=Decimal("12.3450"),
                amount=Decimal(amount), accepted_on=date(2026, 2, 27),
            ),
        ),
        latest_acceptance_on=date(2026, 2, 27),
    )


def test_envelope_is_cloudevents_1_0_keyed_by_institution() -> None:
    cause = Envelope.wrap(_invoice(), time=datetime(2026, 3, 2, 9, tzinfo=UTC))
    wire = json.loads(cause.to_bytes())
    assert wire["specversion"] == "1.0"
    assert wire["type"] == "cn.jicai.orders.InvoiceReceived.v1"
    assert wire["source"] == "/jicai/orders"
    assert wire["subject"] == "INV-1"
    assert wire["partitionkey"] == "H001"
    assert wire["correlationid"] == wire["id"]
    assert wire["time"].startswith("2026-03-02T09:00:00")
    # money travels as exact decimal strings, never floats
    assert wire["data"]["amount"] == "1234.50"
    assert wire["data"]["lines"][0]["unit_price"] == "12.3450"


def test_caused_event_continues_the_correlation() -> None:
    cause = Envelope.wrap(_invoice(), time=datetime.now(UTC))
    effect = Envelope.wrap(
        PaymentRecorded(
            payment_id="P1", institution_id="H001", distributor_id="D001", paid_on=date(2026, 3, 20),
            amount=Decimal("10.00"), allocations=(PaymentAllocation(invoice_id="INV-1", amount=Decimal("10.00")),),
        ),
        time=datetime.now(UTC), correlation_id=cause.correlationid, causation_id=cause.id,
    )
    assert effect.correlationid == cause.id and effect.causationid == cause.id


def test_round_trip_gives_back_the_same_typed_event() -> None:
    event = _invoice()
    parsed = Envelope.from_bytes(Envelope.wrap(event, time=datetime.now(UTC)).to_bytes()).event()
    assert parsed == event


@pytest.mark.parametrize("bad", ["1.001", "-5.00", "NaN", "Infinity"])
def test_money_must_be_exact_fen_and_not_negative(bad: str) -> None:
    with pytest.raises(ValidationError):
        _invoice(bad)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError):
        Envelope.wrap(DayClosed(business_date=date(2026, 1, 1)), time=datetime(2026, 1, 1, 0, 0))


def test_events_are_immutable() -> None:
    with pytest.raises(ValidationError):
        _invoice().amount = Decimal("1.00")  # type: ignore[misc]


def test_topic_registry_routes_by_owning_service() -> None:
    assert topic_for(InvoiceReceived) is ORDERS
    assert topic_for(DayClosed) is CLOCK
    assert len({t.name for t in ALL_TOPICS}) == len(ALL_TOPICS)
    assert DayClosed(business_date=date(2026, 1, 1)).partition_key() == "clock"


def test_an_old_schema_version_is_upcast_when_read() -> None:
    registry = EventRegistry()

    class Renamed(IntegrationEvent):
        source_service = "orders"
        event_name = "Renamed"
        schema_version = 2
        institution_id: str
        quantity: int

    registry.register(Renamed)
    registry.register_upcaster(
        "cn.jicai.orders.Renamed.v1", Renamed.type_name(), lambda d: {"institution_id": d["inst"], "quantity": d["qty"]}
    )
    assert registry.parse("cn.jicai.orders.Renamed.v1", {"inst": "H1", "qty": 3}) == Renamed(institution_id="H1", quantity=3)


def test_checked_in_json_schemas_are_current() -> None:
    """Regenerate with ``python -m jicai_events.schemas`` when this fails."""
    expected = render_all()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    assert on_disk == expected
