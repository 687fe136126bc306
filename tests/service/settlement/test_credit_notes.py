"""Credit notes and voids (红冲) from the orders service: what an invoice asks for drops, payments are checked against it,
and what was paid beyond it shows as a refundable credit."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_events import Envelope
from jicai_events.catalog import InvoiceCredited, InvoiceVoided
from jicai_events.subscriptions import Unprocessable
from jicai_settlement.bootstrap import INVOICES
from tests.service.settlement.support import count, deliver, field, invoice


def _credited(credit_note_id: str, amount: str, after: str, invoice_id: str = "INV-1") -> InvoiceCredited:
    return InvoiceCredited(
        credit_note_id=credit_note_id, credit_note_number=f"No.{credit_note_id}", invoice_id=invoice_id, institution_id="H1",
        pooling_region_code="520100", distributor_id="D1", amount=Decimal(amount), invoice_amount_after=Decimal(after),
        received_on=date(2026, 3, 10), reason="price corrected",
    )


def _voided(invoice_id: str = "INV-1") -> InvoiceVoided:
    return InvoiceVoided(invoice_id=invoice_id, institution_id="H1", pooling_region_code="520100", distributor_id="D1",
                         voided_on=date(2026, 3, 12), reason="wrong institution")


def _pay(client: TestClient, h1: dict[str, str], payment_id: str, amount: str, invoice_id: str = "INV-1") -> Any:
    body = {"payment_id": payment_id, "institution_id": "H1", "distributor_id": "D1", "paid_on": "2026-03-20", "amount": amount,
            "allocations": [{"invoice_id": invoice_id, "amount": amount}]}
    return client.post("/payments", json=body, headers=h1)


def test_a_credit_note_lowers_what_is_owed_and_a_payment_beyond_it_is_refused(client: TestClient, h1: dict[str, str]) -> None:
    invoice(client, "INV-1", "500.00")
    assert deliver(client, INVOICES, _credited("CN-1", "100.00", "400.00")) == "handled"
    view = client.get("/invoices/INV-1", headers=h1).json()
    assert (view["amount"], view["amount_due"], view["outstanding"], view["status"]) == ("500.00", "400.00", "400.00", "unpaid")
    assert [(c["credit_note_id"], c["amount"], c["amount_after"]) for c in view["credit_notes"]] == [("CN-1", "100.00", "400.00")]

    refused = _pay(client, h1, "PAY-1", "450.00")
    assert field(refused) == "allocations[0].amount"
    assert "outstanding 400.00" in refused.json()["detail"] and "after credit notes" in refused.json()["detail"]
    assert _pay(client, h1, "PAY-1", "400.00").status_code == 201
    assert client.get("/invoices/INV-1", headers=h1).json()["status"] == "paid"


def test_a_credit_after_payment_shows_the_excess_as_a_refundable_credit(client: TestClient, h1: dict[str, str]) -> None:
    invoice(client, "INV-1", "500.00")
    invoice(client, "INV-2", "80.00")
    _pay(client, h1, "PAY-1", "500.00")
    deliver(client, INVOICES, _credited("CN-1", "120.00", "380.00"))
    deliver(client, INVOICES, _credited("CN-2", "30.00", "350.00"))
    view = client.get("/invoices/INV-1", headers=h1).json()
    assert (view["amount_due"], view["paid"], view["outstanding"], view["refundable_credit"], view["status"]) == (
        "350.00", "500.00", "0.00", "150.00", "paid")
    credits = client.get("/institutions/H1/refundable-credits", headers=h1).json()
    assert (credits["refundable_credit"], [i["invoice_id"] for i in credits["invoices"]]) == ("150.00", ["INV-1"])
    assert field(_pay(client, h1, "PAY-2", "0.01")) == "allocations[0].amount"  # nothing is owed any more


def test_a_void_removes_what_is_owed_and_a_paid_voided_invoice_is_refundable_in_full(client: TestClient, h1: dict[str, str]) -> None:
    invoice(client, "INV-1", "500.00")
    invoice(client, "INV-2", "200.00")
    _pay(client, h1, "PAY-2", "200.00", "INV-2")
    deliver(client, INVOICES, _voided("INV-1"))
    deliver(client, INVOICES, _voided("INV-2"))
    one = client.get("/invoices/INV-1", headers=h1).json()
    assert (one["amount_due"], one["outstanding"], one["status"], one["voided_on"]) == ("0.00", "0.00", "voided", "2026-03-12")
    assert field(_pay(client, h1, "PAY-1", "10.00")) == "allocations[0].amount"
    credits = client.get("/institutions/H1/refundable-credits", headers=h1).json()
    assert (credits["refundable_credit"], [i["invoice_id"] for i in credits["invoices"]]) == ("200.00", ["INV-2"])


def test_credit_notes_and_voids_redelivered_change_nothing(client: TestClient, db_url: str, h1: dict[str, str]) -> None:
    invoice(client, "INV-1", "500.00")
    envelope = Envelope.wrap(_credited("CN-1", "100.00", "400.00"), time=datetime.now(UTC))
    assert deliver(client, INVOICES, envelope) == "handled"
    assert deliver(client, INVOICES, envelope) == "duplicate"
    assert deliver(client, INVOICES, _credited("CN-1", "100.00", "400.00")) == "handled"  # republished: applied once
    deliver(client, INVOICES, _voided())
    deliver(client, INVOICES, _voided())
    assert count(db_url, "select count(*) from event_store where stream_id = 'invoice-INV-1'") == 3
    assert client.get("/invoices/INV-1", headers=h1).json()["amount_due"] == "0.00"


@pytest.mark.parametrize(("event", "reason"), [
    (_credited("CN-1", "10.00", "490.00", invoice_id="INV-unknown"), "INV-unknown is unknown"),
    (_credited("CN-1", "10.00", "500.00"), "must be below"),
])
def test_a_credit_settlement_cannot_apply_goes_to_the_dead_letters_with_the_reason(
    client: TestClient, event: InvoiceCredited, reason: str
) -> None:
    invoice(client, "INV-1", "500.00")
    with pytest.raises(Unprocessable, match=reason):
        deliver(client, INVOICES, event)


def test_a_credit_note_id_reused_with_other_content_and_a_credit_after_a_void_are_refused(client: TestClient) -> None:
    invoice(client, "INV-1", "500.00")
    deliver(client, INVOICES, _credited("CN-1", "100.00", "400.00"))
    with pytest.raises(Unprocessable, match="different details"):
        deliver(client, INVOICES, _credited("CN-1", "50.00", "350.00"))
    deliver(client, INVOICES, _voided())
    with pytest.raises(Unprocessable, match="voided"):
        deliver(client, INVOICES, _credited("CN-2", "50.00", "350.00"))
