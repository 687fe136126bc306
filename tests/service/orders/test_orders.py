"""Orders (订单) through the API on real PostgreSQL: placed, confirmed, shipped, delivered by HIS acceptances, cancelled."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.orders import test_api as base
from tests.service.orders.test_api import Auth, _count, _line, _published, _push

client = base.client
db_url = base.db_url


def _order(**changes: Any) -> dict[str, Any]:
    return {"order_id": "O-1", "institution_id": "H1", "placed_on": "2026-03-02",
            "lines": [{"contract_id": "C1", "quantity": 10}], **changes}


def _place(c: TestClient, auth: dict[str, str], **changes: Any) -> Any:
    return c.post("/orders", json=_order(**changes), headers=auth)


def _step(c: TestClient, auth: dict[str, str], step: str, **body: str) -> Any:
    return c.post(f"/orders/O-1/{step}", json=body, headers=auth)


def test_an_order_goes_from_placed_to_delivered_as_the_distributor_ships_and_the_his_accepts(
    client: TestClient, db_url: str, token: Auth
) -> None:
    his, d1 = token("H1", Role.INSTITUTION), token("D1", Role.DISTRIBUTOR)
    assert _place(client, his).status_code == 201
    got = client.get("/orders/O-1", headers=his).json()
    assert (got["status"], got["distributor_id"], got["amount"]) == ("placed", "D1", "20.05")
    assert got["lines"][0]["unit_price"] == "2.0050" and got["lines"][0]["product_id"] == "P1"

    early = _push(client, his, _line("RK-1", order_id="O-1")).json()["results"][0]
    assert early["status"] == "rejected" and "not shipped yet" in early["reason"]

    assert _step(client, d1, "confirm", confirmed_on="2026-03-03").json() == {"id": "O-1", "created": True}
    assert client.get("/orders/O-1", headers=d1).json()["status"] == "confirmed"
    assert _step(client, d1, "ship", shipped_on="2026-03-04").status_code == 200
    assert client.get("/orders/O-1", headers=his).json()["status"] == "shipped"

    assert _push(client, his, _line("RK-1", order_id="O-1", accepted_quantity=6, accepted_on="2026-03-05")).json()["accepted"] == 1
    got = client.get("/orders/O-1", headers=his).json()
    assert got["status"] == "partly_delivered" and got["lines"][0]["accepted_quantity"] == 6
    r = _push(client, his, _line("RK-2", order_id="O-1", accepted_quantity=3, rejected_quantity=1, rejection_reason="破损",
                                 accepted_on="2026-03-06"))
    assert r.json()["accepted"] == 1
    got = client.get("/orders/O-1", headers=his).json()
    assert got["status"] == "delivered"
    assert (got["lines"][0]["accepted_quantity"], got["lines"][0]["rejected_quantity"]) == (9, 1)
    assert client.get("/acceptances/H1:RK-2", headers=his).json()["order_id"] == "O-1"
    assert [p["data"]["order_id"] for p in _published(db_url, "OrderPlaced")] == ["O-1"]
    assert len(_published(db_url, "OrderShipped")) == 1


def test_retries_count_once_and_other_content_conflicts(client: TestClient, db_url: str, token: Auth) -> None:
    his, d1 = token("H1", Role.INSTITUTION), token("D1", Role.DISTRIBUTOR)
    assert _place(client, his).status_code == 201
    again = _place(client, his)
    assert again.status_code == 200 and again.json() == {"id": "O-1", "created": False}
    assert _place(client, his, lines=[{"contract_id": "C1", "quantity": 11}]).status_code == 409
    assert _step(client, d1, "confirm", confirmed_on="2026-03-03").json()["created"] is True
    assert _step(client, d1, "confirm", confirmed_on="2026-03-03").json()["created"] is False
    assert _step(client, d1, "confirm", confirmed_on="2026-03-04").status_code == 409
    assert _count(db_url, "select count(*) from event_store where stream_type = 'order'") == 2
    assert len(_published(db_url, "OrderConfirmed")) == 1


def test_a_line_with_another_product_or_price_than_the_contract_is_refused_naming_both(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    r = _place(client, his, lines=[{"contract_id": "C1", "quantity": 10, "unit_price": "1.9000"}])
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    [error] = r.json()["errors"]
    assert error["field"] == "lines[0].unit_price" and "1.9000" in error["reason"] and "2.0050" in error["reason"]
    r = _place(client, his, lines=[{"contract_id": "C1", "quantity": 10, "product_id": "P9"}])
    assert r.json()["errors"][0]["field"] == "lines[0].product_id"
    assert _place(client, his, lines=[{"contract_id": "C1", "quantity": 10, "product_id": "P1", "unit_price": "2.005"}]).status_code == 201
    assert _count(db_url, "select count(*) from orders") == 1


def test_his_acceptance_lines_stating_another_product_or_price_are_rejected_per_line(client: TestClient, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    body = _push(client, his, _line("RK-1", unit_price="2.1000"), _line("RK-2", product_id="P7"), _line("RK-3", unit_price="2.005")).json()
    assert [x["status"] for x in body["results"]] == ["rejected", "rejected", "accepted"]
    assert body["results"][0]["reason"] == "unit_price 2.1000 is not the winning price 2.0050 of contract C1"
    assert body["results"][1]["reason"] == "product_id P7 is not the product P1 of contract C1"


def test_only_the_parties_of_the_order_act_on_it(client: TestClient, token: Auth) -> None:
    assert _place(client, token("H2", Role.INSTITUTION)).status_code == 403
    assert _place(client, token("D1", Role.DISTRIBUTOR)).status_code == 403
    assert _place(client, token("H1", Role.INSTITUTION), lines=[{"contract_id": "C2", "quantity": 1}]).status_code == 422
    assert _place(client, token("H1", Role.INSTITUTION)).status_code == 201
    assert _step(client, token("D2", Role.DISTRIBUTOR), "confirm", confirmed_on="2026-03-03").status_code == 403
    assert _step(client, token("H1", Role.INSTITUTION), "confirm", confirmed_on="2026-03-03").status_code == 403
    assert _step(client, token("H2", Role.INSTITUTION), "cancel", cancelled_on="2026-03-03", reason="x").status_code == 403
    assert client.get("/orders/O-1", headers=token("D2", Role.DISTRIBUTOR)).status_code == 403
    assert client.post("/orders/O-404/confirm", json={"confirmed_on": "2026-03-03"}, headers=token("D1", Role.DISTRIBUTOR)).status_code == 404
    assert [o["order_id"] for o in client.get("/institutions/H1/orders", headers=token("D1", Role.DISTRIBUTOR)).json()] == ["O-1"]
    assert client.get("/institutions/H1/orders", headers=token("D2", Role.DISTRIBUTOR)).json() == []


def test_an_order_is_cancelled_before_shipping_but_not_after(client: TestClient, token: Auth) -> None:
    his, d1 = token("H1", Role.INSTITUTION), token("D1", Role.DISTRIBUTOR)
    _place(client, his)
    _place(client, his, order_id="O-2")
    assert _step(client, his, "cancel", cancelled_on="2026-03-02", reason="计划调整").status_code == 200
    assert client.get("/orders/O-1", headers=his).json()["status"] == "cancelled"
    assert _step(client, d1, "confirm", confirmed_on="2026-03-03").status_code == 409
    client.post("/orders/O-2/confirm", json={"confirmed_on": "2026-03-03"}, headers=d1)
    client.post("/orders/O-2/ship", json={"shipped_on": "2026-03-04"}, headers=d1)
    r = client.post("/orders/O-2/cancel", json={"cancelled_on": "2026-03-05", "reason": "晚了"}, headers=his)
    assert r.status_code == 409 and "cannot be cancelled" in r.json()["detail"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"contract_id": "C1", "quantity": 0}]}, "lines[0].quantity"),
        ({"placed_on": "2026-02-30"}, "placed_on"),
        ({"lines": [{"contract_id": "C1", "quantity": 1}, {"contract_id": "C3", "quantity": 1}]}, "lines"),
        ({"lines": [{"contract_id": "C404", "quantity": 1}]}, "lines[0].contract_id"),
    ],
)
def test_invalid_orders_are_refused_naming_the_field(client: TestClient, db_url: str, token: Auth, changes: dict[str, Any], field: str) -> None:
    r = _place(client, token("H1", Role.INSTITUTION), **changes)
    assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}
    assert _count(db_url, "select count(*) from orders") == 0
