"""Generic groups (同通用名 / 评审组), winning products in them and non-winning products, on real PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.contracts.conftest import published
from tests.support.shared_apps import SharedApp

Auth = Callable[[str, Role], dict[str, str]]

GROUP = {"group_id": "G-ATV-20", "batch_id": "GJ-2", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "base_unit": "片"}
PRODUCT = {"product_id": "P1", "batch_id": "GJ-2", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "specification": "20mg*7片",
           "manufacturer_id": "M1", "winning_unit_price": "1.9800", "trading_unit": "盒",
           "generic_group_id": "G-ATV-20", "base_units_per_trading_unit": "7"}
NON_WINNING = {"product_id": "NW1", "generic_group_id": "G-ATV-20", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂",
               "specification": "20mg*14片", "manufacturer_name": "某原研药企", "base_units_per_trading_unit": "14",
               "reference_unit_price": "60.50"}


@pytest.fixture
def client(contracts: SharedApp, token: Auth) -> TestClient:
    c = contracts.client
    assert c.post("/manufacturers", json={"party_id": "M1", "name": "某制药有限公司"}, headers=token("OPS", Role.OPERATOR)).status_code == 201
    return c


def test_a_group_its_winning_and_non_winning_products_are_published_once(client: TestClient, db_url: str, token: Auth) -> None:
    ops = token("OPS", Role.OPERATOR)
    first, again = (client.post("/generic-groups", json=GROUP, headers=ops) for _ in range(2))
    assert (first.status_code, again.status_code, again.json()["created"]) == (201, 200, False)
    assert client.post("/generic-groups", json={**GROUP, "base_unit": "粒"}, headers=ops).status_code == 409
    assert client.post("/winning-products", json=PRODUCT, headers=ops).status_code == 201
    assert client.post("/non-winning-products", json=NON_WINNING, headers=ops).status_code == 201
    assert client.post("/non-winning-products", json=NON_WINNING, headers=ops).status_code == 200

    reader = token("H1", Role.INSTITUTION)
    assert client.get("/generic-groups/G-ATV-20", headers=reader).json()["base_unit"] == "片"
    assert [g["group_id"] for g in client.get("/generic-groups", params={"batch_id": "GJ-2"}, headers=reader).json()] == ["G-ATV-20"]
    assert client.get("/generic-groups", params={"batch_id": "GJ-9"}, headers=reader).json() == []
    assert client.get("/generic-groups/G-404", headers=reader).status_code == 404
    product = client.get("/winning-products/P1", headers=reader).json()
    assert (product["generic_group_id"], product["base_units_per_trading_unit"]) == ("G-ATV-20", "7.0000")
    listed = client.get("/non-winning-products", params={"generic_group_id": "G-ATV-20"}, headers=reader).json()
    assert [(p["product_id"], p["base_units_per_trading_unit"], p["reference_unit_price"]) for p in listed] == [("NW1", "14.0000", "60.5000")]

    [group] = published(db_url, "GenericGroupDefined")
    assert group["partitionkey"] == "G-ATV-20" and group["data"] == GROUP
    [winning] = published(db_url, "WinningProductListed")
    assert (winning["data"]["generic_group_id"], winning["data"]["base_units_per_trading_unit"]) == ("G-ATV-20", "7.0000")
    [non_winning] = published(db_url, "NonWinningProductListed")
    assert non_winning["partitionkey"] == "NW1"
    assert (non_winning["data"]["base_units_per_trading_unit"], non_winning["data"]["reference_unit_price"]) == ("14.0000", "60.5000")


def test_a_winning_product_without_a_group_is_listed_as_before(client: TestClient, db_url: str, token: Auth) -> None:
    plain = {k: v for k, v in PRODUCT.items() if k not in ("generic_group_id", "base_units_per_trading_unit")}
    assert client.post("/winning-products", json=plain, headers=token("OPS", Role.OPERATOR)).status_code == 201
    [winning] = published(db_url, "WinningProductListed")
    assert winning["data"]["generic_group_id"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/winning-products", PRODUCT, "generic_group_id"),  # the group is not defined
        ("/non-winning-products", NON_WINNING, "generic_group_id"),
    ],
)
def test_a_product_naming_an_undefined_group_is_refused(
    client: TestClient, db_url: str, token: Auth, path: str, body: dict[str, Any], field: str
) -> None:
    r = client.post(path, json=body, headers=token("OPS", Role.OPERATOR))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in r.json()["errors"]}
    assert published(db_url, "WinningProductListed") == [] and published(db_url, "NonWinningProductListed") == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/winning-products", {**PRODUCT, "generic_name": "瑞舒伐他汀钙片"}, "generic_name"),
        ("/winning-products", {**PRODUCT, "batch_id": "GJ-3"}, "batch_id"),
        ("/winning-products", {**PRODUCT, "base_units_per_trading_unit": None}, "base_units_per_trading_unit"),
        ("/winning-products", {**PRODUCT, "base_units_per_trading_unit": "0"}, "base_units_per_trading_unit"),
        ("/winning-products", {**PRODUCT, "base_units_per_trading_unit": "7.00001"}, "base_units_per_trading_unit"),
        ("/non-winning-products", {**NON_WINNING, "dosage_form": "胶囊"}, "dosage_form"),
        ("/non-winning-products", {**NON_WINNING, "base_units_per_trading_unit": "-14"}, "base_units_per_trading_unit"),
        ("/non-winning-products", {**NON_WINNING, "product_id": "P1"}, None),  # a winning product's id: 409
    ],
)
def test_a_product_that_does_not_fit_its_group_names_the_field(
    client: TestClient, token: Auth, path: str, body: dict[str, Any], field: str | None
) -> None:
    ops = token("OPS", Role.OPERATOR)
    assert client.post("/generic-groups", json=GROUP, headers=ops).status_code == 201
    if field is None:
        assert client.post("/winning-products", json=PRODUCT, headers=ops).status_code == 201
        assert client.post(path, json=body, headers=ops).status_code == 409
        return
    r = client.post(path, json=body, headers=ops)
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


def test_only_operators_define_groups_and_list_products(client: TestClient, token: Auth) -> None:
    h1 = token("H1", Role.INSTITUTION)
    assert client.post("/generic-groups", json=GROUP, headers=h1).status_code == 403
    assert client.post("/non-winning-products", json=NON_WINNING, headers=h1).status_code == 403
