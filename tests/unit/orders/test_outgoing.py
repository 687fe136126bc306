"""What orders tells the others about an acceptance: DeliveryAccepted on the wire, read back as it was written."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

import jicai_events.catalog as ie
from jicai_events import Envelope
from jicai_orders.adapters.outgoing import translate
from jicai_orders.domain.acceptance import AcceptanceLine, Accepted, accept
from jicai_orders.domain.contract import ContractView

CONTRACT = ContractView(
    contract_id="C-1", institution_id="H001", pooling_region_code="520100", distributor_id="D.1", manufacturer_id="M1",
    product_id="P:1", unit_price=Decimal("2.0050"), agreed_quantity=10**12,
    cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31),
)


@pytest.mark.parametrize(("quantity", "rejected", "reason", "channel"), [
    (5, 0, None, "platform"), (0, 3, "破损 damaged", "offline"), (10**12 // 3, 1, "x", "platform"),
])
def test_an_accepted_line_travels_as_delivery_accepted_with_exact_prices_and_without_orders_internals(
    quantity: int, rejected: int, reason: str | None, channel: str,
) -> None:
    line = AcceptanceLine(
        external_id="RK_0001.a-b", contract_id="C-1", accepted_quantity=quantity, rejected_quantity=rejected,
        rejection_reason=reason, accepted_on=date(2026, 3, 2), lot_number="L2026A", channel=channel,
    )
    decision = accept([], "H001", line, CONTRACT)
    assert isinstance(decision, Accepted)
    built = translate(decision.event)
    assert isinstance(built, ie.DeliveryAccepted)
    wire = json.loads(Envelope.wrap(built, time=datetime(2026, 3, 2, 9, tzinfo=UTC)).to_bytes())
    assert Envelope.model_validate(wire).event() == built
    assert wire["data"]["unit_price"] == "2.0050" and "manufacturer_id" not in wire["data"]
