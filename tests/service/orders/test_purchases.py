"""Purchases outside VBP contracts (非中选, 线下采购) reported by a HIS, on real PostgreSQL."""
from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_events.base import IntegrationEvent
from jicai_events.catalog import ContractSigned, GenericGroupDefined, NonWinningProductListed, WinningProductListed
from jicai_events.envelope import Envelope
from jicai_events.types import BUSINESS_TZ
from jicai_kit.auth import Role
from jicai_orders.bootstrap import CONTRACTS_CONSUMER
from tests.support import infra
from tests.support.shared_apps import SharedApp

Auth = Callable[[str, Role], dict[str, str]]

GROUP = GenericGroupDefined(group_id="G1", batch_id="GJ-2", generic_name="阿托伐他汀钙片", dosage_form="片剂", base_unit="片")
WINNING = WinningProductListed(
    product_id="P1", batch_id="GJ-2", generic_name="阿托伐他汀钙片", dosage_form="片剂", specification="20mg*7片", manufacturer_id="M1",
    winning_unit_price=Decimal("1.9800"), trading_unit="盒", generic_group_id="G1", base_units_per_trading_unit=Decimal("7"),
)
UNGROUPED = WinningProductListed(
    product_id="P2", batch_id="GJ-2", generic_name="氨氯地平片", dosage_form="片剂", specification="5mg*28片", manufacturer_id="M1",
    winning_unit_price=Decimal("3.0000"), trading_unit="盒",
)
NON_WINNING = NonWinningProductListed(
    product_id="NW1", generic_group_id="G1", generic_name="阿托伐他汀钙片", dosage_form="片剂", specification="20mg*14片",
    manufacturer_name="某原研药企", base_units_per_trading_unit=Decimal("14"), reference_unit_price=Decimal("60.5000"),
)
CONTRACT = ContractSigned(
    contract_id="C1", institution_id="H1", pooling_region_code="520100", manufacturer_id="M1", distributor_id="D1", product_id="P1",
    unit_price=Decimal("1.9800"), agreed_quantity=1200, cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31), signed_on=date(2025, 12, 20),
)


@pytest.fixture
def db_url(orders: SharedApp) -> str:
    return orders.url


@pytest.fixture
def client(orders: SharedApp) -> TestClient:
    c = orders.client
    for event in (GROUP, WINNING, UNGROUPED, NON_WINNING, CONTRACT):
        assert _deliver(c, event) == "handled"
    return c


def _deliver(client: TestClient, event: IntegrationEvent, event_id: str | None = None) -> str:
    """Hand the envelope to the real consumer, exactly as a Kafka delivery would."""
    consumer = client.app.state.runtime.event_consumer(CONTRACTS_CONSUMER)  # type: ignore[attr-defined]
    envelope = Envelope.wrap(event, time=datetime(2025, 12, 20, 9, 0, tzinfo=BUSINESS_TZ), event_id=event_id)
    assert client.portal is not None
    outcome: str = client.portal.call(consumer.deliver, envelope)
    return outcome


def _rows(db_url: str, sql: str) -> list[Any]:
    return infra.rows(db_url, sql)


def _count(db_url: str, sql: str) -> int:
    return int(_rows(db_url, sql)[0][0])


def _published(db_url: str, event_name: str) -> list[dict[str, Any]]:
    sql = f"select payload from outbox where convert_from(payload, 'UTF8') like '%.{event_name}.v1%' order by id"
    return [json.loads(bytes(p.payload)) for p in _rows(db_url, sql)]


def _line(external_id: str, product_id: str = "NW1", **changes: Any) -> dict[str, Any]:
    return {"external_id": external_id, "product_id": product_id, "quantity": 3, "unit_price": "60.5000",
            "purchased_on": "2026-03-02", "channel": "platform", **changes}


def _push(client: TestClient, auth: dict[str, str], *lines: dict[str, Any], institution: str = "H1") -> Any:
    return client.post(f"/institutions/{institution}/purchases:batch", json={"lines": list(lines)}, headers=auth)


def test_purchases_are_converted_to_base_units_flagged_and_published(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    r = _push(
        client, his,
        _line("CG-1"),                                                          # non-winning, on the platform
        _line("CG-2", product_id="P1", quantity=5, unit_price="1.9800", channel="offline"),   # winning, bought offline
        _line("CG-3", product_id="NW1", quantity=1, channel="offline"),          # non-winning, offline
    )
    assert r.status_code == 200
    body = r.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (3, 0, 0)
    assert body["results"][0] == {"external_id": "CG-1", "status": "accepted", "purchase_id": "H1:CG-1"}

    listed = client.get("/institutions/H1/purchases", headers=his).json()
    assert [(p["purchase_id"], p["winning"], p["channel"], p["quantity"], p["base_units"], p["amount"]) for p in listed] == [
        ("H1:CG-1", False, "platform", 3, "42.0000", "181.50"),
        ("H1:CG-2", True, "offline", 5, "35.0000", "9.90"),
        ("H1:CG-3", False, "offline", 1, "14.0000", "60.50"),
    ]
    offline = client.get("/institutions/H1/purchases", params={"channel": "offline"}, headers=his).json()
    assert [p["purchase_id"] for p in offline] == ["H1:CG-2", "H1:CG-3"]

    published = _published(db_url, "PurchaseRecorded")
    assert [p["data"]["purchase_id"] for p in published] == ["H1:CG-1", "H1:CG-2", "H1:CG-3"]
    first = published[0]
    assert first["partitionkey"] == "H1" and first["subject"] == "H1:CG-1"
    assert first["data"] == {
        "purchase_id": "H1:CG-1", "external_id": "CG-1", "institution_id": "H1", "pooling_region_code": "520100",
        "product_id": "NW1", "generic_group_id": "G1", "winning": False, "channel": "platform", "quantity": 3,
        "base_units": "42.0000", "unit_price": "60.5000", "amount": "181.50", "purchased_on": "2026-03-02",
    }
    assert published[1]["data"]["winning"] is True and published[1]["data"]["channel"] == "offline"


def test_lines_the_platform_cannot_place_are_rejected_one_by_one(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    r = _push(
        client, his,
        _line("CG-1", product_id="NOPE"),
        _line("CG-2", product_id="P2", channel="offline"),
        _line("CG-3", product_id="P1"),
        _line("CG-4"),
    ).json()
    assert [x["status"] for x in r["results"]] == ["rejected", "rejected", "rejected", "accepted"]
    reasons = [x["reason"] for x in r["results"][:3]]
    assert "unknown product NOPE" in reasons[0]
    assert "no generic group" in reasons[1]
    assert "acceptance against its contract" in reasons[2]
    assert _count(db_url, "select count(*) from purchases") == 1

    no_contract = _push(client, token("H2", Role.INSTITUTION), _line("CG-1"), institution="H2").json()
    assert no_contract["rejected"] == 1 and "pooling region is unknown" in no_contract["results"][0]["reason"]


def test_a_product_listed_later_can_be_pushed_again_once_it_arrives(client: TestClient, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    assert _push(client, his, _line("CG-1", product_id="NW2")).json()["results"][0]["status"] == "rejected"
    assert _deliver(client, NON_WINNING.model_copy(update={"product_id": "NW2"})) == "handled"
    assert _push(client, his, _line("CG-1", product_id="NW2")).json()["results"][0]["status"] == "accepted"


def test_retries_count_once_even_concurrently(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    lines = [_line(f"CG-{i:03d}", quantity=i + 1) for i in range(40)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda n: _push(client, his, *(lines if n % 2 else lines[::-1])), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    bodies = [r.json() for r in responses]
    assert sum(b["accepted"] for b in bodies) == 40 and sum(b["duplicates"] for b in bodies) == 3 * 40
    again = _push(client, his, *lines).json()
    assert (again["accepted"], again["duplicates"]) == (0, 40)
    changed = _push(client, his, _line("CG-000", quantity=99)).json()
    assert changed["results"][0]["reason"] == "conflicts with the purchase recorded earlier"
    assert _count(db_url, "select count(*) from purchases") == 40
    assert _count(db_url, "select count(*) from event_store where stream_type = 'purchase'") == 40
    assert len(_published(db_url, "PurchaseRecorded")) == 40


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([_line("CG-1"), _line("CG-2", quantity=0)], "lines[1].quantity"),
        ([_line("CG-1"), _line("CG-2", unit_price="1.00001")], "lines[1].unit_price"),
        ([_line("CG-1", channel="phone")], "lines[0].channel"),
        ([_line("CG-1", purchased_on="2026-02-30")], "lines[0].purchased_on"),
        ([{k: v for k, v in _line("CG-1").items() if k != "channel"}], "lines[0].channel"),
        ([_line("CG-1"), _line("CG-1")], "lines[1].external_id"),
        ([_line("CG-1", product_id="")], "lines[0].product_id"),
        ([], "lines"),
    ],
)
def test_invalid_input_is_refused_whole_naming_the_field(
    client: TestClient, db_url: str, token: Auth, lines: list[dict[str, Any]], field: str
) -> None:
    r = _push(client, token("H1", Role.INSTITUTION), *lines)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in r.json()["errors"]}
    assert _count(db_url, "select count(*) from purchases") == 0
    assert _count(db_url, "select count(*) from outbox") == 0


def test_each_institution_reports_and_reads_only_its_own_purchases(client: TestClient, db_url: str, token: Auth) -> None:
    assert _push(client, token("H2", Role.INSTITUTION), _line("CG-1")).status_code == 403
    assert _push(client, token("D1", Role.DISTRIBUTOR), _line("CG-1")).status_code == 403
    assert _push(client, token("OPS", Role.OPERATOR), _line("CG-1")).json()["accepted"] == 1
    assert client.get("/institutions/H1/purchases", headers=token("H2", Role.INSTITUTION)).status_code == 403
    assert client.get("/institutions/H1/purchases", headers=token("D1", Role.DISTRIBUTOR)).status_code == 403
    assert client.get("/institutions/H1/purchases").status_code == 401
    assert [p["purchase_id"] for p in client.get("/institutions/H1/purchases", headers=token("FUND", Role.FUND)).json()] == ["H1:CG-1"]


def test_reference_facts_delivered_twice_are_kept_once_and_not_republished(client: TestClient, db_url: str) -> None:
    assert _deliver(client, NON_WINNING, event_id="evt-nw1") == "handled"
    assert _deliver(client, NON_WINNING, event_id="evt-nw1") == "duplicate"
    assert _count(db_url, "select count(*) from event_store where stream_id = 'product-NW1'") == 1
    assert _rows(db_url, "select winning, generic_group_id, base_units_per_trading_unit from products where product_id = 'NW1'")[0] == (
        False, "G1", Decimal("14.0000"),
    )
    assert _rows(db_url, "select base_unit from generic_groups where group_id = 'G1'")[0][0] == "片"
    assert _count(db_url, "select count(*) from outbox") == 0


def test_an_acceptance_carries_its_channel(client: TestClient, db_url: str, token: Auth) -> None:
    line = {"external_id": "RK-1", "contract_id": "C1", "accepted_quantity": 5, "accepted_on": "2026-03-02", "lot_number": "L1"}
    his = token("H1", Role.INSTITUTION)
    r = client.post("/institutions/H1/acceptances:batch", json={"lines": [line, {**line, "external_id": "RK-2", "channel": "offline"}]}, headers=his)
    assert r.json()["accepted"] == 2
    assert [a["channel"] for a in client.get("/institutions/H1/acceptances", headers=his).json()] == ["platform", "offline"]
    assert [p["data"]["channel"] for p in _published(db_url, "DeliveryAccepted")] == ["platform", "offline"]
    bad = client.post("/institutions/H1/acceptances:batch", json={"lines": [{**line, "channel": "fax"}]}, headers=his)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "lines[0].channel"


def test_purchases_and_reference_data_rebuild_from_the_event_store(client: TestClient, token: Auth) -> None:
    from jicai_orders.adapters.repository import streams
    from jicai_orders.adapters.tables import READ_MODELS

    ops = token("OPS", Role.OPERATOR)
    assert _push(client, ops, _line("CG-1"), _line("CG-2", product_id="P1", channel="offline")).json()["accepted"] == 2
    before = client.get("/institutions/H1/purchases", headers=ops).json()
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def rebuild() -> int:
        async with runtime.unit_of_work() as uow:
            return int(await streams.rebuild(uow, READ_MODELS))

    assert client.portal is not None
    assert client.portal.call(rebuild) == 5 + 2  # group, three products, contract; two purchases
    assert client.get("/institutions/H1/purchases", headers=ops).json() == before
