"""Credit notes, voids and replacement invoices (红冲) through the API on real PostgreSQL."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.orders import test_api as base
from tests.service.orders.test_api import Auth, _accept_for_invoicing, _count, _invoice, _published

client = base.client
db_url = base.db_url


def _credit(c: TestClient, auth: dict[str, str], invoice_id: str = "INV-1", **changes: Any) -> Any:
    body = {"credit_note_id": "CN-1", "credit_note_number": "No.-1", "amount": "5.00", "received_on": "2026-03-20", "reason": "价格调整",
            **changes}
    return c.post(f"/invoices/{invoice_id}/credit-notes", json=body, headers=auth)


def _void(c: TestClient, auth: dict[str, str], invoice_id: str = "INV-1", **changes: Any) -> Any:
    return c.post(f"/invoices/{invoice_id}/void", json={"voided_on": "2026-03-20", "reason": "开票错误", **changes}, headers=auth)


@pytest.fixture
def d1(client: TestClient, token: Auth) -> dict[str, str]:
    """D1 holds invoice INV-1 of 18.05 (H1:A1 × 3, H1:A3 × 6)."""
    _accept_for_invoicing(client, token)
    auth = token("D1", Role.DISTRIBUTOR)
    assert client.post("/invoices", json=_invoice(), headers=auth).status_code == 201
    return auth


def test_credit_notes_reduce_the_invoice_down_to_nothing_and_no_further(client: TestClient, db_url: str, d1: dict[str, str]) -> None:
    assert _credit(client, d1).status_code == 201
    assert _credit(client, d1).json() == {"id": "CN-1", "created": False}
    assert _credit(client, d1, amount="6.00").status_code == 409
    got = client.get("/invoices/INV-1", headers=d1).json()
    assert (got["amount"], got["credited_amount"], got["current_amount"], got["status"]) == ("18.05", "5.00", "13.05", "credited")
    assert got["credit_notes"][0]["invoice_amount_after"] == "13.05"
    too_much = _credit(client, d1, credit_note_id="CN-2", amount="13.06")
    assert too_much.status_code == 422 and too_much.json()["errors"][0]["field"] == "amount"
    assert "still asks for" in too_much.json()["errors"][0]["reason"]
    assert _credit(client, d1, credit_note_id="CN-2", amount="13.05").status_code == 201
    assert client.get("/invoices/INV-1", headers=d1).json()["current_amount"] == "0.00"
    published = _published(db_url, "InvoiceCredited")
    assert [(p["data"]["amount"], p["data"]["invoice_amount_after"]) for p in published] == [("5.00", "13.05"), ("13.05", "0.00")]
    assert published[0]["data"]["received_on"] == "2026-03-20"


def test_a_voided_invoice_frees_its_units_for_one_replacement_of_the_same_parties(client: TestClient, db_url: str, d1: dict[str, str]) -> None:
    replacement = _invoice(invoice_id="INV-2", issued_on="2026-03-21", received_on="2026-03-23", replaces_invoice_id="INV-1")
    not_voided = client.post("/invoices", json=replacement, headers=d1)
    assert not_voided.status_code == 422 and not_voided.json()["errors"][0]["field"] == "replaces_invoice_id"
    assert _void(client, d1).json() == {"id": "INV-1", "created": True}
    assert _void(client, d1).json()["created"] is False
    assert _void(client, d1, reason="别的").status_code == 409
    assert client.get("/acceptances/H1:A1", headers=d1).json()["invoiced_quantity"] == 0
    assert _credit(client, d1).status_code == 409

    assert client.post("/invoices", json=replacement, headers=d1).status_code == 201
    assert client.post("/invoices", json=replacement, headers=d1).status_code == 200
    second = client.post("/invoices", json={**replacement, "invoice_id": "INV-3"}, headers=d1)
    assert second.status_code == 409
    old, new = (client.get(f"/invoices/{i}", headers=d1).json() for i in ("INV-1", "INV-2"))
    assert (old["status"], old["current_amount"], old["replaced_by_invoice_id"]) == ("replaced", "0.00", "INV-2")
    assert (new["status"], new["replaces_invoice_id"], new["current_amount"]) == ("issued", "INV-1", "18.05")
    assert client.get("/acceptances/H1:A1", headers=d1).json()["invoiced_quantity"] == 3
    [voided] = _published(db_url, "InvoiceVoided")
    assert voided["data"]["voided_on"] == "2026-03-20"
    assert [p["data"].get("replaces_invoice_id") for p in _published(db_url, "InvoiceReceived")] == [None, "INV-1"]


def test_only_the_invoices_distributor_credits_or_voids_it(client: TestClient, db_url: str, d1: dict[str, str], token: Auth) -> None:
    assert _credit(client, token("D2", Role.DISTRIBUTOR)).status_code == 403
    assert _credit(client, token("H1", Role.INSTITUTION)).status_code == 403
    assert _void(client, token("D2", Role.DISTRIBUTOR)).status_code == 403
    assert _void(client, d1, invoice_id="INV-404").status_code == 404
    assert _void(client, token("OPS", Role.OPERATOR)).status_code == 200
    assert _count(db_url, "select count(*) from credit_notes") == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"amount": "0.00"}, "amount"), ({"amount": "1.001"}, "amount"), ({"received_on": "2026-03-11"}, "received_on"),
     ({"reason": ""}, "reason"), ({"credit_note_id": ""}, "credit_note_id")],
)
def test_bad_credit_notes_are_refused_naming_the_field(client: TestClient, d1: dict[str, str], changes: dict[str, Any], field: str) -> None:
    r = _credit(client, d1, **changes)
    assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}
