"""The outbox's set-based writer encodes envelopes without building them: the same bytes as ``Envelope.to_bytes``."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import DayClosed, DeliveryAccepted, InvoiceLine, InvoiceReceived, PaymentAllocation, PaymentRecorded

EVENTS: list[IntegrationEvent] = [
    DeliveryAccepted(
        acceptance_id="H001:L1", external_id='L1 验收 "quoted" \\ \u2028', institution_id="H001", pooling_region_code="520100",
        contract_id="C1", product_id="P1", distributor_id="D1", accepted_quantity=10, rejected_quantity=0, accepted_on=date(2026, 9, 1),
        lot_number="LOT1", unit_price=Decimal("1.98"), accepted_amount=Decimal("19.8"),
    ),
    DeliveryAccepted(
        acceptance_id="H001:L2", external_id="L2", institution_id="H001", pooling_region_code="520100", contract_id="C1",
        product_id="P1", distributor_id="D1", accepted_quantity=0, rejected_quantity=3, rejection_reason="破损", accepted_on=date(2026, 9, 1),
        lot_number="LOT1", unit_price=Decimal("1.9800"), accepted_amount=Decimal("0"), channel="offline",
    ),
    InvoiceReceived(
        invoice_id="INV-1", invoice_number="52001234", institution_id="H001", pooling_region_code="520100", distributor_id="D001",
        issued_on=date(2026, 3, 1), received_on=date(2026, 3, 2), amount=Decimal("1234.50"),
        lines=(InvoiceLine(acceptance_id="H001:L1", contract_id="C1", quantity=100, unit_price=Decimal("12.3450"),
                           amount=Decimal("1234.50"), accepted_on=date(2026, 2, 27)),),
        latest_acceptance_on=date(2026, 2, 27),
    ),
    PaymentRecorded(
        payment_id="P1", institution_id="H001", distributor_id="D001", paid_on=date(2026, 3, 20), amount=Decimal("10.00"),
        allocations=(PaymentAllocation(invoice_id="INV-1", amount=Decimal("10.00")),),
    ),
    DayClosed(business_date=date(2026, 3, 2)),
]
TIMES = [datetime(2026, 3, 2, 9, 0, 0, 123456, tzinfo=UTC), datetime(2026, 3, 2, 17, 5, tzinfo=timezone(timedelta(hours=8)))]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("time", TIMES, ids=["utc", "shanghai"])
@pytest.mark.parametrize(("correlation_id", "causation_id"), [(None, None), ("CORR-1", None), ("CORR-1", "CAUSE-1")])
def test_wrapped_bytes_are_the_envelopes_bytes(event: IntegrationEvent, time: datetime, correlation_id: str | None, causation_id: str | None) -> None:
    wrapped = Envelope.wrap(event, time=time, event_id="EVT-1", correlation_id=correlation_id, causation_id=causation_id)
    encoded = Envelope.wrapped_bytes(event, time=time, event_id="EVT-1", correlation_id=correlation_id, causation_id=causation_id)
    assert encoded == wrapped.to_bytes()
    assert Envelope.from_bytes(encoded) == wrapped
