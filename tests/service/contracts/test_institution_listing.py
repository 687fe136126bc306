"""``GET /institutions``: what a province-wide reader (the operations console) iterates over; not for a party."""
from __future__ import annotations

from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.contracts.conftest import Auth


def test_operators_and_the_fund_list_every_institution_optionally_of_one_region(hubei: TestClient, ops: dict[str, str], token: Auth) -> None:
    other = {"institution_id": "G1", "name": "贵阳市第一人民医院", "pooling_region_code": "520100", "county_code": "520102"}
    assert hubei.post("/institutions", json=other, headers=ops).status_code == 201
    listed = hubei.get("/institutions", headers=token("FUND", Role.FUND)).json()
    assert [i["institution_id"] for i in listed] == ["G1", "H1", "H2"] and listed[0]["name"] == "贵阳市第一人民医院"
    wuhan = hubei.get("/institutions", params={"pooling_region_code": "420100"}, headers=ops).json()
    assert [i["institution_id"] for i in wuhan] == ["H1", "H2"]
    refused = hubei.get("/institutions", headers=token("H1", Role.INSTITUTION))
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
