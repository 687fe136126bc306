"""Settlement decides on events stored by the previous release exactly as on current ones (upcast on read)."""
from __future__ import annotations

from decimal import Decimal

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tests.service.settlement.support import invoice, rows


def _as_the_previous_release_stored_it(db_url: str, invoice_id: str) -> None:
    """Version 1 of ``InvoiceRecorded``: no version key and, before direct settlement, no pooling region."""
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text("update event_store set data = (data - '_class_version') - 'pooling_region_code'"
                 " where event_type = 'InvoiceRecorded' and data->>'invoice_id' = :id"),
            {"id": invoice_id},
        )
    engine.dispose()


def test_an_invoice_stored_by_version_1_is_paid_and_shown_like_a_current_one(
    client: TestClient, db_url: str, h1: dict[str, str], fund: dict[str, str]
) -> None:
    invoice(client, "INV-OLD", "500.00")
    invoice(client, "INV-NEW", "500.00")
    [(current,)] = rows(db_url, "select data from event_store where event_type = 'InvoiceRecorded' and data->>'invoice_id' = 'INV-NEW'")
    assert (current["_class_version"], current["pooling_region_code"]) == (2, "520100")
    _as_the_previous_release_stored_it(db_url, "INV-OLD")

    for invoice_id, payment_id in (("INV-OLD", "PAY-OLD"), ("INV-NEW", "PAY-NEW")):
        paid = client.post("/payments", headers=h1, json={
            "payment_id": payment_id, "institution_id": "H1", "distributor_id": "D1", "paid_on": "2026-03-20", "amount": "300.00",
            "allocations": [{"invoice_id": invoice_id, "amount": "300.00"}], "reference": "BANK-TX-1",
        })
        assert paid.status_code == 201, paid.text
        shown = client.get(f"/invoices/{invoice_id}", headers=h1).json()
        assert Decimal(shown["outstanding"]) == Decimal("200.00")

    # What version 1 did not know stays unknown: direct settlement needs the region and says so.
    refused = client.post("/direct-settlements", headers=fund, json={
        "payment_id": "DS-OLD", "institution_id": "H1", "distributor_id": "D1", "paid_on": "2026-03-21", "amount": "100.00",
        "allocations": [{"invoice_id": "INV-OLD", "amount": "100.00"}], "reference": "FUND-1",
    })
    assert refused.status_code == 422
    assert "pooling region of invoice INV-OLD is unknown" in refused.text
