"""Returns (退货) through the API on real PostgreSQL: bounded by what was accepted, counted once, not billable afterwards."""
from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.orders import test_api as base
from tests.service.orders.test_api import Auth, _count, _invoice, _line, _published, _push

client = base.client
db_url = base.db_url


def _return(c: TestClient, auth: dict[str, str], acceptance_id: str = "H1:A1", **changes: Any) -> Any:
    body = {"return_id": "R-1", "returned_quantity": 3, "returned_on": "2026-03-09", "reason": "近效期", **changes}
    return c.post(f"/acceptances/{acceptance_id}/returns", json=body, headers=auth)


def test_a_return_is_recorded_once_and_the_returned_units_cannot_be_invoiced(client: TestClient, db_url: str, token: Auth) -> None:
    his, d1 = token("H1", Role.INSTITUTION), token("D1", Role.DISTRIBUTOR)
    assert _push(client, his, _line("A1", accepted_quantity=10)).json()["accepted"] == 1
    assert _return(client, his).status_code == 201
    again = _return(client, his)
    assert again.status_code == 200 and again.json() == {"id": "R-1", "created": False}
    assert _return(client, his, returned_quantity=4).status_code == 409
    assert client.get("/acceptances/H1:A1", headers=his).json()["returned_quantity"] == 3
    [published] = _published(db_url, "DeliveryReturned")
    data = published["data"]
    assert (data["return_id"], data["returned_quantity"], data["returned_amount"], data["product_id"]) == ("R-1", 3, "6.02", "P1")

    # 8 × 2.005 = 16.04: more than the 7 accepted units not returned
    r = client.post("/invoices", json=_invoice(amount="16.04", lines=[{"acceptance_id": "H1:A1", "quantity": 8}]), headers=d1)
    assert r.status_code == 422 and "(3 returned)" in r.json()["errors"][0]["reason"]
    ok = client.post("/invoices", json=_invoice(amount="14.04", lines=[{"acceptance_id": "H1:A1", "quantity": 7}]), headers=d1)
    assert ok.status_code == 201


def test_no_more_than_accepted_minus_already_returned(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    _push(client, his, _line("A1", accepted_quantity=10))
    assert _return(client, his, returned_quantity=8).status_code == 201
    r = _return(client, his, return_id="R-2", returned_quantity=3)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "returned_quantity"
    assert "has 2 of 10 accepted units not yet returned" in r.json()["errors"][0]["reason"]
    assert _return(client, his, return_id="R-2", returned_quantity=2).status_code == 201
    assert _count(db_url, "select sum(returned_quantity) from returns") == 10


def test_only_the_institution_returns_its_deliveries_and_bad_input_names_the_field(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    _push(client, his, _line("A1", accepted_quantity=10))
    assert _return(client, token("H2", Role.INSTITUTION)).status_code == 403
    assert _return(client, token("D1", Role.DISTRIBUTOR)).status_code == 403
    assert _return(client, his, acceptance_id="H1:NOPE").status_code == 404
    assert _return(client, his, returned_quantity=0).json()["errors"][0]["field"] == "returned_quantity"
    assert _return(client, his, returned_on="2026-03-01").json()["errors"][0]["field"] == "returned_on"
    assert _return(client, his, reason="").json()["errors"][0]["field"] == "reason"
    assert _count(db_url, "select count(*) from returns") == 0
