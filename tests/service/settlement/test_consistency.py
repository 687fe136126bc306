"""Read your own writes across services: a write names its events; ``?after=`` waits until they are handled here."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from jicai_events import Envelope
from jicai_events.catalog import InvoiceLine, InvoiceReceived
from jicai_kit import consistency
from jicai_settlement.bootstrap import INVOICES
from tests.service.settlement.support import deliver, invoice

INVOICE = InvoiceReceived(
    invoice_id="INV-AFTER", invoice_number="No.AFTER", institution_id="H1", pooling_region_code="520100", distributor_id="D1",
    issued_on=date(2026, 3, 2), received_on=date(2026, 3, 2), amount=Decimal("50.00"),
    lines=(InvoiceLine(acceptance_id="H1:L-AFTER", contract_id="C1", quantity=1, unit_price=Decimal("50.00"), amount=Decimal("50.00"),
                       accepted_on=date(2026, 2, 27)),),
    latest_acceptance_on=date(2026, 2, 27),
)


def _payment(payment_id: str, invoice_id: str) -> dict[str, object]:
    return {"payment_id": payment_id, "institution_id": "H1", "distributor_id": "D1", "paid_on": "2026-03-10", "amount": "50.00",
            "allocations": [{"invoice_id": invoice_id, "amount": "50.00"}]}


def test_a_write_names_the_events_it_recorded_and_a_repeat_names_none(client: TestClient, h1: dict[str, str]) -> None:
    invoice(client, "INV-1", "50.00")
    first = client.post("/payments", json=_payment("PAY-1", "INV-1"), headers=h1)
    assert first.status_code == 201, first.text
    (token,) = first.headers[consistency.HEADER].split(",")
    assert token.startswith("cn.jicai.settlement.PaymentRecorded.v1/")
    repeat = client.post("/payments", json=_payment("PAY-1", "INV-1"), headers=h1)
    assert repeat.status_code == 200 and consistency.HEADER not in repeat.headers


def test_a_payment_after_the_invoices_token_waits_for_the_invoice_instead_of_refusing_it(client: TestClient, h1: dict[str, str]) -> None:
    """Orders answered 201 for the invoice; settlement has not consumed it yet when the hospital pays."""
    envelope = Envelope.wrap(INVOICE, time=datetime.now(UTC))
    token = f"{envelope.type}/{envelope.id}"
    assert client.post("/payments", json=_payment("PAY-EARLY", "INV-AFTER"), headers=h1).status_code == 422  # without the token

    with ThreadPoolExecutor(1) as pool:
        paying = pool.submit(client.post, "/payments", json=_payment("PAY-AFTER", "INV-AFTER"), headers=h1, params={"after": token})
        time.sleep(0.5)
        assert not paying.done(), "answered before settlement had the invoice"
        assert deliver(client, INVOICES, envelope) == "handled"
        paid = paying.result(timeout=15)
    assert paid.status_code == 201, paid.text
    assert client.get("/invoices/INV-AFTER", headers=h1, params={"after": token}).json()["outstanding"] == "0.00"


def test_an_event_not_handled_in_time_gives_503_with_retry_after_and_changes_nothing(
    client: TestClient, h1: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consistency, "WAIT_S", 0.5)
    invoice(client, "INV-2", "50.00")
    never = f"{InvoiceReceived.type_name()}/never-delivered"
    r = client.post("/payments", json=_payment("PAY-2", "INV-2"), headers=h1, params={"after": never})
    assert r.status_code == 503 and r.headers["Retry-After"] == "2", r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/payments/PAY-2", headers=h1).status_code == 404


def test_tokens_this_service_is_not_waiting_for_answer_at_once_and_bad_ones_are_refused(client: TestClient, h1: dict[str, str]) -> None:
    invoice(client, "INV-3", "50.00")
    own = client.post("/payments", json=_payment("PAY-3", "INV-3"), headers=h1).headers[consistency.HEADER]
    not_consumed = "cn.jicai.orders.OrderPlaced.v1/some-order-event"
    r = client.get("/payments/PAY-3", headers=h1, params={"after": [own, not_consumed]})
    assert r.status_code == 200, r.text
    bad = client.get("/payments/PAY-3", headers=h1, params={"after": "no-slash"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "after"
