"""Rolling deploys: a reader ignores what a newer writer added; a writer never emits what the contract lacks."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from jicai_events import Envelope
from jicai_events.catalog import InvoiceLine, InvoiceReceived

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def _invoice() -> InvoiceReceived:
    return InvoiceReceived(
        invoice_id="INV-1", invoice_number="52001234", institution_id="H001", pooling_region_code="520100",
        distributor_id="D001", issued_on=date(2026, 3, 1), received_on=date(2026, 3, 2), amount=Decimal("10.00"),
        lines=(InvoiceLine(acceptance_id="H001:L1", contract_id="C1", quantity=1, unit_price=Decimal("10.0000"),
                           amount=Decimal("10.00"), accepted_on=date(2026, 2, 27)),),
        latest_acceptance_on=date(2026, 2, 27),
    )


def _wire(event: InvoiceReceived) -> dict[str, Any]:
    wire: dict[str, Any] = json.loads(Envelope.wrap(event, time=datetime(2026, 3, 2, tzinfo=UTC)).to_bytes())
    return wire


def test_a_reader_ignores_extension_attributes_it_does_not_know() -> None:
    wire = _wire(_invoice())
    wire |= {"traceparent": TRACEPARENT, "tracestate": "jicai=1", "dataref": "s3://elsewhere"}
    envelope = Envelope.from_bytes(json.dumps(wire).encode())
    assert envelope.type == InvoiceReceived.type_name()
    assert envelope.event() == _invoice()
    assert "traceparent" not in json.loads(envelope.to_bytes())  # not carried on: this reader does not know it


def test_a_reader_ignores_event_fields_a_newer_producer_added_at_every_level() -> None:
    wire = _wire(_invoice())
    wire["data"]["payer_reference"] = "PR-7"
    wire["data"]["lines"][0]["batch_note"] = "cold chain"
    assert Envelope.from_bytes(json.dumps(wire).encode()).event() == _invoice()


@pytest.mark.parametrize("change", ["missing", "wrong_type"])
def test_a_reader_still_refuses_an_event_missing_or_breaking_a_field_it_needs(change: str) -> None:
    wire = _wire(_invoice())
    if change == "missing":
        del wire["data"]["received_on"]
    else:
        wire["data"]["amount"] = "ten"
    envelope = Envelope.from_bytes(json.dumps(wire).encode())
    with pytest.raises(ValidationError):
        envelope.event()


def test_a_reader_still_refuses_an_envelope_without_a_required_attribute() -> None:
    wire = _wire(_invoice())
    del wire["partitionkey"]
    with pytest.raises(ValidationError, match="partitionkey"):
        Envelope.from_bytes(json.dumps(wire).encode())


def test_a_writer_refuses_an_event_field_the_contract_lacks() -> None:
    with pytest.raises(ValidationError, match="payer_reference"):
        InvoiceReceived.model_validate(_invoice().model_dump() | {"payer_reference": "PR-7"})
    with pytest.raises(ValidationError, match="batch_note"):
        InvoiceLine(acceptance_id="H001:L1", contract_id="C1", quantity=1, unit_price=Decimal("10.0000"),  # type: ignore[call-arg]
                    amount=Decimal("10.00"), accepted_on=date(2026, 2, 27), batch_note="cold chain")


def test_a_writer_refuses_an_envelope_attribute_the_contract_lacks() -> None:
    envelope = Envelope.wrap(_invoice(), time=datetime(2026, 3, 2, tzinfo=UTC))
    with pytest.raises(ValidationError, match="traceparent"):
        Envelope.model_validate(envelope.model_dump() | {"traceparent": TRACEPARENT})


def test_the_published_json_schemas_describe_what_writers_emit_and_nothing_more() -> None:
    from jicai_events.schemas import render_all

    schema = json.loads(render_all()[f"{InvoiceReceived.type_name()}.json"])
    assert schema["additionalProperties"] is False
    assert schema["$defs"]["InvoiceLine"]["additionalProperties"] is False
