"""The contracts API on real PostgreSQL: what an integrating platform sees."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.support import infra

Auth = Callable[[str, Role], dict[str, str]]

def _rows(db_url: str, sql: str) -> list[Any]:
    return infra.rows(db_url, sql)

def _seed(client: TestClient, ops: dict[str, str]) -> None:
    institution = {"institution_id": "H1", "name": "贵阳市第一人民医院", "pooling_region_code": "520100", "county_code": "520102"}
    assert client.post("/institutions", json=institution, headers=ops).status_code == 201
    assert client.post("/manufacturers", json={"party_id": "M1", "name": "某制药有限公司"}, headers=ops).status_code == 201
    assert client.post("/distributors", json={"party_id": "D1", "name": "某医药配送公司"}, headers=ops).status_code == 201
    product = {"product_id": "P1", "batch_id": "GJ-2", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "specification": "20mg*7片",
               "manufacturer_id": "M1", "winning_unit_price": "1.9800", "trading_unit": "盒"}
    assert client.post("/winning-products", json=product, headers=ops).status_code == 201

CONTRACT = {"contract_id": "C1", "institution_id": "H1", "manufacturer_id": "M1", "distributor_id": "D1", "product_id": "P1",
            "unit_price": "1.98", "agreed_quantity": 1200, "cycle_start": "2026-01-01", "cycle_end": "2026-12-31", "signed_on": "2025-12-20"}

def test_signing_a_contract_publishes_contract_signed_once(client: TestClient, db_url: str, token: Auth) -> None:
    ops = token("OPS", Role.OPERATOR)
    _seed(client, ops)
    first = client.post("/contracts", json=CONTRACT, headers=ops)
    again = client.post("/contracts", json=CONTRACT, headers=ops)
    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (again.status_code, again.json()["created"]) == (200, False)
    got = client.get("/contracts/C1", headers=ops).json()
    assert got["unit_price"] == "1.9800" and got["pooling_region_code"] == "520100"
    signed = _rows(db_url, "select message_key from outbox where convert_from(payload, 'UTF8') like '%ContractSigned%'")
    assert [r.message_key for r in signed] == ["H1"]
    assert _rows(db_url, "select count(*) from event_store where stream_id = 'contract-C1'")[0][0] == 1

def test_a_price_other_than_the_winning_price_is_refused_and_changes_nothing(client: TestClient, db_url: str, token: Auth) -> None:
    ops = token("OPS", Role.OPERATOR)
    _seed(client, ops)
    before = _rows(db_url, "select count(*) from outbox")[0][0]
    r = client.post("/contracts", json={**CONTRACT, "unit_price": "1.50"}, headers=ops)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "unit_price"
    assert _rows(db_url, "select count(*) from outbox")[0][0] == before
    assert client.get("/contracts/C1", headers=ops).status_code == 404

def test_bad_input_names_the_field(client: TestClient, token: Auth) -> None:
    r = client.post("/contracts", json={**CONTRACT, "agreed_quantity": -3, "cycle_start": "not-a-date"}, headers=token("OPS", Role.OPERATOR))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"agreed_quantity", "cycle_start"}

def test_only_operators_sign_contracts(client: TestClient, token: Auth) -> None:
    assert client.post("/contracts", json=CONTRACT).status_code == 401
    assert client.post("/contracts", json=CONTRACT, headers={"Authorization": "Bearer forged"}).status_code == 401
    r = client.post("/contracts", json=CONTRACT, headers=token("H1", Role.INSTITUTION))
    assert r.status_code == 403 and r.json()["type"] == "urn:jicai:problem:forbidden"

def test_read_models_rebuild_from_the_event_store(client: TestClient, db_url: str, token: Auth) -> None:

    from jicai_contracts.adapters.repository import streams
    from jicai_contracts.adapters.tables import READ_MODELS

    ops = token("OPS", Role.OPERATOR)
    _seed(client, ops)
    client.post("/contracts", json=CONTRACT, headers=ops)
    before = client.get("/contracts", params={"institution_id": "H1"}, headers=ops).json()
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def rebuild() -> int:
        async with runtime.unit_of_work() as uow:
            return await streams.rebuild(uow, READ_MODELS)

    replayed = client.portal.call(rebuild)  # type: ignore[union-attr]
    assert replayed == 6  # 4 parties and products, the contract + the first yearly agreement signed with it
    assert client.get("/contracts", params={"institution_id": "H1"}, headers=ops).json() == before


def test_a_contract_is_read_only_by_its_parties(client: TestClient, token: Auth) -> None:
    ops = token("OPS", Role.OPERATOR)
    _seed(client, ops)
    client.post("/contracts", json=CONTRACT, headers=ops)
    assert client.get("/contracts/C1").status_code == 401
    assert client.get("/contracts/C1", headers=token("H1", Role.INSTITUTION)).status_code == 200
    assert client.get("/contracts/C1", headers=token("D1", Role.DISTRIBUTOR)).status_code == 200
    assert client.get("/contracts/C1", headers=token("H2", Role.INSTITUTION)).status_code == 403
    assert client.get("/contracts", headers=token("H2", Role.INSTITUTION)).json() == []
    assert [c["contract_id"] for c in client.get("/contracts", headers=token("H1", Role.INSTITUTION)).json()] == ["C1"]
    assert client.get("/winning-products/P1", headers=token("H2", Role.INSTITUTION)).status_code == 200


ALLOCATION = {
    "allocation_id": "ALLOC-P1-2026", "product_id": "P1", "agreement_year": 2026, "pooling_region_code": "520100", "method": "share_of_platform_purchases",
    "total": 12001, "bases": [{"institution_id": "H1", "quantity": 600}, {"institution_id": "H2", "quantity": 400}],
}


def test_a_volume_allocation_is_drafted_reviewed_then_approved_and_adds_up_exactly(client: TestClient, token: Auth) -> None:
    ops = token("OPS", Role.OPERATOR)
    _seed(client, ops)
    h2 = {"institution_id": "H2", "name": "贵阳市花溪区人民医院", "pooling_region_code": "520100", "county_code": "520111"}
    assert client.post("/institutions", json=h2, headers=ops).status_code == 201

    assert client.post("/volume-allocations", json=ALLOCATION, headers=ops).status_code == 201
    assert client.post("/volume-allocations", json=ALLOCATION, headers=ops).json()["created"] is False
    draft = client.get("/volume-allocations/ALLOC-P1-2026", headers=ops).json()
    assert draft["status"] == "draft"
    assert {line["institution_id"]: line["allocated_quantity"] for line in draft["lines"]} == {"H1": 7201, "H2": 4800}
    assert {line["county_code"] for line in draft["lines"]} == {"520102", "520111"}
    # an institution reviews its own line only
    [own] = client.get("/volume-allocations/ALLOC-P1-2026", headers=token("H2", Role.INSTITUTION)).json()["lines"]
    assert own["allocated_quantity"] == 4800

    # the same id with other content is a conflict, as for every write: a changed draft gets a new id
    revised = client.post("/volume-allocations", json={**ALLOCATION, "total": 12000}, headers=ops)
    assert (revised.status_code, revised.json()["type"]) == (409, "urn:jicai:problem:conflict")
    assert client.get("/volume-allocations/ALLOC-P1-2026", headers=ops).json() == draft
    assert client.post("/volume-allocations/ALLOC-P1-2026/approval", json={"approved_on": "2025-12-15"}, headers=ops).status_code == 201
    approved = client.get("/volume-allocations/ALLOC-P1-2026", headers=ops).json()
    assert (approved["status"], approved["approved_on"], approved["total"]) == ("approved", "2025-12-15", 12001)
    assert sum(line["allocated_quantity"] for line in approved["lines"]) == 12001
    assert client.post("/volume-allocations", json=ALLOCATION, headers=ops).status_code == 409


def test_an_allocation_with_unregistered_institutions_or_wrong_parameters_is_refused(client: TestClient, token: Auth) -> None:
    ops = token("OPS", Role.OPERATOR)
    _seed(client, ops)
    r = client.post("/volume-allocations", json={**ALLOCATION, "bases": [{"institution_id": "NOPE", "quantity": 5}]}, headers=ops)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "bases[0].institution_id")
    r = client.post("/volume-allocations", json={**ALLOCATION, "bases": [{"institution_id": "H1", "quantity": 5}], "ratio": "0.5"}, headers=ops)
    assert (r.status_code, r.json()["errors"][0]["field"]) == (422, "total")
    assert client.get("/volume-allocations/ALLOC-P1-2026", headers=ops).status_code == 404
    assert client.post("/volume-allocations", json=ALLOCATION, headers=token("H1", Role.INSTITUTION)).status_code == 403
