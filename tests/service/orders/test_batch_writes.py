"""HIS pushes are written set-based (one COPY per table): what a hospital and an operator must still see.

Overlapping pushes racing each other count every line once; several lines
filling one order add up on its lines in the same push; a rebuild of the
read models from the event store gives back exactly what the pushes wrote.
"""
from __future__ import annotations

import asyncio
import os
import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from jicai_kit.serve import rebuild_read_models
from jicai_kit.services import service
from tests.service.orders import test_api as base
from tests.service.orders.test_api import Auth, _count, _line, _published, _push, _rows

client = base.client
db_url = base.db_url


def test_overlapping_pushes_racing_each_other_record_every_line_once(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    shuffled = list(range(120))
    random.Random(7).shuffle(shuffled)
    pushes = [list(range(0, 60)), list(reversed(range(30, 90))), list(range(60, 120)), shuffled]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda ids: _push(client, his, *(_line(f"OV-{i:03d}") for i in ids)), pushes))
    assert [r.status_code for r in responses] == [200] * 4
    statuses: dict[str, list[str]] = {}
    for r in responses:
        for result in r.json()["results"]:
            statuses.setdefault(result["external_id"], []).append(result["status"])
    assert len(statuses) == 120
    assert all(s.count("accepted") == 1 and set(s) <= {"accepted", "duplicate"} for s in statuses.values()), statuses
    assert _count(db_url, "select count(*) from acceptances where external_id like 'OV-%'") == 120
    assert _count(db_url, "select count(*) from event_store where stream_type = 'acceptance' and version = 1") == 120
    assert _count(db_url, "select count(*) from event_store where stream_type = 'acceptance'") == 120
    published = _published(db_url, "DeliveryAccepted")
    assert sorted(p["data"]["external_id"] for p in published) == [f"OV-{i:03d}" for i in range(120)]
    # Each published event is the stored event: same id.
    stored_ids = {r[0] for r in _rows(db_url, "select event_id from event_store where stream_type = 'acceptance'")}
    assert {p["id"] for p in published} == stored_ids


def test_the_same_single_line_pushed_at_once_by_several_clients_is_recorded_once(client: TestClient, db_url: str, token: Auth) -> None:
    # A line or a few go as INSERTs pipelined in one round trip (not COPY): a lost race must still be a retry finding the winner.
    his = token("H1", Role.INSTITUTION)
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda i: _push(client, his, _line(f"SL-{i % 10:02d}")), range(40)))
    assert [r.status_code for r in responses] == [200] * 40
    statuses: dict[str, list[str]] = {}
    for r in responses:
        (result,) = r.json()["results"]
        statuses.setdefault(result["external_id"], []).append(result["status"])
    assert sorted(statuses) == [f"SL-{i:02d}" for i in range(10)]
    assert all(sorted(s) == ["accepted"] + ["duplicate"] * 3 for s in statuses.values()), statuses
    assert _count(db_url, "select count(*) from event_store where stream_id like 'acceptance-H1-SL-%'") == 10
    assert _count(db_url, "select count(*) from acceptances where external_id like 'SL-%'") == 10
    published = [p for p in _published(db_url, "DeliveryAccepted") if p["data"]["external_id"].startswith("SL-")]
    stored = {r[0] for r in _rows(db_url, "select event_id from event_store where stream_id like 'acceptance-H1-SL-%'")}
    assert {p["id"] for p in published} == stored and len(published) == 10


def _order_shipped(c: TestClient, token: Auth) -> None:
    his, d1 = token("H1", Role.INSTITUTION), token("D1", Role.DISTRIBUTOR)
    body = {"order_id": "O-1", "institution_id": "H1", "placed_on": "2026-03-02", "lines": [{"contract_id": "C1", "quantity": 20}]}
    assert c.post("/orders", json=body, headers=his).status_code == 201
    assert c.post("/orders/O-1/confirm", json={"confirmed_on": "2026-03-03"}, headers=d1).status_code in (200, 201)
    assert c.post("/orders/O-1/ship", json={"shipped_on": "2026-03-04"}, headers=d1).status_code in (200, 201)


def _read_models(db_url: str) -> dict[str, list[Any]]:
    return {
        "acceptances": [tuple(r) for r in _rows(db_url, "select * from acceptances order by acceptance_id")],
        "order_lines": [tuple(r) for r in _rows(db_url, "select * from order_lines order by order_id, line_no")],
        "orders": [tuple(r) for r in _rows(db_url, "select * from orders order by order_id")],
    }


def test_lines_filling_one_order_add_up_and_a_rebuild_gives_back_what_the_pushes_wrote(
    client: TestClient, db_url: str, token: Auth
) -> None:
    his = token("H1", Role.INSTITUTION)
    _order_shipped(client, token)
    first = _push(client, his, _line("OF-1", order_id="O-1", accepted_quantity=6), _line("OF-2", order_id="O-1", accepted_quantity=4),
                  _line("OF-3", accepted_quantity=7), _line("OF-4", order_id="O-1", accepted_quantity=2, rejected_quantity=1, rejection_reason="破损"))
    assert first.json()["accepted"] == 4
    got = client.get("/orders/O-1", headers=his).json()
    assert (got["lines"][0]["accepted_quantity"], got["lines"][0]["rejected_quantity"]) == (12, 1)
    assert _push(client, his, _line("OF-1", order_id="O-1", accepted_quantity=6), _line("OF-5", order_id="O-1", accepted_quantity=3)).json()["accepted"] == 1
    assert client.get("/orders/O-1", headers=his).json()["lines"][0]["accepted_quantity"] == 15
    before = _read_models(db_url)

    previous = os.environ.get("JICAI_ORDERS_DATABASE_URL")
    os.environ["JICAI_ORDERS_DATABASE_URL"] = db_url
    try:
        replayed = asyncio.run(rebuild_read_models(service("orders")))
    finally:
        if previous is None:
            os.environ.pop("JICAI_ORDERS_DATABASE_URL")
        else:
            os.environ["JICAI_ORDERS_DATABASE_URL"] = previous
    assert replayed == _count(db_url, "select count(*) from event_store")
    assert _read_models(db_url) == before
