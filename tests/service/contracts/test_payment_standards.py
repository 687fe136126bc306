"""R6 payment standard (医保支付标准) through the contracts API on real PostgreSQL: answers per region, group and product, and
the decision that a non-winning product is dearer, taken once the batch gives the group a region.

Group G-ATV of batch SD-1: winning P1, a box of 7 片 at 7.00 (1.00 a tablet); non-winning NW1 14 片 at 21.00 (1.50, dearer),
NW2 14 片 at 12.60 (0.90), NW3 listed without a price. Shandong 001 §五 raises the first self-pay ratio by 10 points;
Hubei 003 §四(四) makes the patient pay the excess over the standard.
"""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.contracts.conftest import Auth, published

DEARER = "NonWinningProductPricedAbovePaymentStandard"
GROUP = {"group_id": "G-ATV", "batch_id": "SD-1", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "base_unit": "片"}
WINNING = {"product_id": "P1", "batch_id": "SD-1", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "specification": "20mg*7片",
           "manufacturer_id": "M1", "winning_unit_price": "7.00", "trading_unit": "盒", "generic_group_id": "G-ATV",
           "base_units_per_trading_unit": "7"}


def non_winning(product_id: str, price: str | None, box: str = "14") -> dict[str, Any]:
    return {"product_id": product_id, "generic_group_id": "G-ATV", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂",
            "specification": f"20mg*{box}片", "manufacturer_name": "某原研药企", "base_units_per_trading_unit": box,
            "reference_unit_price": price}


def batch(region: str) -> dict[str, Any]:
    return {"batch_id": "SD-1", "title": "第一批集中带量采购", "pooling_region_code": region, "cycle_start": "2026-01-01",
            "lines": [{"generic_group_id": "G-ATV", "winner_count": 1, "cycle_years": 2}]}


@pytest.fixture
def listed(client: TestClient, ops: dict[str, str]) -> TestClient:
    assert client.post("/manufacturers", json={"party_id": "M1", "name": "某制药有限公司"}, headers=ops).status_code == 201
    assert client.post("/generic-groups", json=GROUP, headers=ops).status_code == 201
    for body in (WINNING, non_winning("NW1", "21.00"), non_winning("NW2", "12.60"), non_winning("NW3", None)):
        path = "/winning-products" if body["product_id"] == "P1" else "/non-winning-products"
        assert client.post(path, json=body, headers=ops).status_code == 201
    return client


def standards(client: TestClient, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    r = client.get("/payment-standards", params={"on": "2026-03-01", **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_each_product_of_a_group_has_its_standard_under_the_regions_profile(listed: TestClient, token: Auth) -> None:
    reader = token("H1", Role.INSTITUTION)
    shandong = standards(listed, reader, pooling_region_code="370100", generic_group_id="G-ATV")
    assert [(x["product_id"], x["basis"], x["payment_standard_per_trading_unit"], x["dearer"], x["first_self_pay_ratio_increase"])
            for x in shandong] == [
        ("P1", "winning_price", "7.0000", False, None),
        ("NW1", "none_set", None, True, "0.10"),
        ("NW2", "actual_price", "12.6000", False, None),
        ("NW3", "price_unknown", None, None, None),
    ]
    assert {(x["profile_id"], x["profile_version"], x["source"], x["base_unit"], x["group_payment_standard_per_base_unit"])
            for x in shandong} == {("shandong-2021", 1, "001_450b5b2068b38bb5.txt §五", "片", "1.0000")}

    [hubei] = standards(listed, reader, pooling_region_code="420100", product_id="NW1")
    assert (hubei["basis"], hubei["price_per_base_unit"], hubei["payment_standard_per_trading_unit"]) == ("group_standard", "1.5000", "14.0000")
    assert (hubei["patient_pays_per_trading_unit"], hubei["first_self_pay_ratio_increase"]) == ("7.0000", None)
    assert (hubei["profile_id"], hubei["source"]) == ("hubei-2019", "003_5bdb581359ce1a93.txt §四(四)")
    [chongqing] = standards(listed, reader, pooling_region_code="500000", generic_group_id="G-ATV", product_id="NW2")
    assert (chongqing["basis"], chongqing["profile_id"], chongqing["source"]) == ("actual_price", "chongqing-2019", "004_9f3f38a2952ba61f.txt §二(四)")


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        pytest.param({"pooling_region_code": "520100", "generic_group_id": "G-ATV"}, 422, "pooling_region_code", id="guizhou-2020 sets none"),
        pytest.param({"pooling_region_code": "110100", "generic_group_id": "G-ATV"}, 422, "pooling_region_code", id="no profile"),
        pytest.param({"pooling_region_code": "37010", "generic_group_id": "G-ATV"}, 422, "pooling_region_code", id="not 6 digits"),
        pytest.param({"generic_group_id": "G-ATV"}, 422, "pooling_region_code", id="region missing"),
        pytest.param({"pooling_region_code": "370100"}, 422, "generic_group_id", id="neither group nor product"),
        pytest.param({"pooling_region_code": "370100", "generic_group_id": "G-X", "product_id": "NW1"}, 422, "generic_group_id", id="other group"),
        pytest.param({"pooling_region_code": "370100", "product_id": "NW 1"}, 422, "product_id", id="not an identifier"),
        pytest.param({"pooling_region_code": "370100", "generic_group_id": "G-ATV", "on": "2026-02-30"}, 422, "on", id="not a date"),
        pytest.param({"pooling_region_code": "370100", "product_id": "NW9"}, 404, None, id="unknown product"),
        pytest.param({"pooling_region_code": "370100", "generic_group_id": "G-X"}, 404, None, id="unknown group"),
    ],
)
def test_a_question_that_cannot_be_answered_says_why(
    listed: TestClient, token: Auth, params: dict[str, str], status: int, field: str | None
) -> None:
    r = listed.get("/payment-standards", params={"on": "2026-03-01", **params}, headers=token("H1", Role.INSTITUTION))
    assert r.status_code == status and r.headers["content-type"] == "application/problem+json", r.text
    if field is not None:
        assert field in {e["field"].split(".")[-1] for e in r.json()["errors"]}


def test_an_unauthenticated_caller_is_refused(listed: TestClient) -> None:
    assert listed.get("/payment-standards", params={"pooling_region_code": "370100", "generic_group_id": "G-ATV"}).status_code == 401


def test_shandong_decides_once_per_dearer_product_when_the_batch_gives_the_group_its_region(
    listed: TestClient, db_url: str, ops: dict[str, str]
) -> None:
    assert published(db_url, DEARER) == []  # no batch: no region whose profile could decide
    assert listed.post("/batches", json=batch("370100"), headers=ops).status_code == 201

    [decided] = published(db_url, DEARER)
    assert (decided["partitionkey"], decided["subject"]) == ("NW1", "dearer-NW1")
    data = decided["data"]
    assert (data["product_id"], data["generic_group_id"], data["batch_id"], data["pooling_region_code"]) == ("NW1", "G-ATV", "SD-1", "370100")
    assert (data["profile_id"], data["profile_version"], data["source"]) == ("shandong-2021", 1, "001_450b5b2068b38bb5.txt §五")
    assert (data["price_per_base_unit"], data["payment_standard_per_base_unit"], data["first_self_pay_ratio_increase"]) == (
        "1.5000", "1.0000", "0.10")
    assert (data["payment_standard_per_trading_unit"], data["patient_pays_per_trading_unit"]) == (None, None)

    assert listed.post("/non-winning-products", json=non_winning("NW1", "21.00"), headers=ops).status_code == 200  # a retry
    assert listed.post("/batches", json=batch("370100"), headers=ops).status_code == 200
    assert listed.post("/non-winning-products", json=non_winning("NW4", "12.00", box="10"), headers=ops).status_code == 201  # 1.20 a tablet
    assert [d["data"]["product_id"] for d in published(db_url, DEARER)] == ["NW1", "NW4"]


def test_hubei_decides_when_the_winning_price_arrives_after_the_batch_and_the_dearer_product(
    client: TestClient, db_url: str, ops: dict[str, str]
) -> None:
    assert client.post("/manufacturers", json={"party_id": "M1", "name": "某制药有限公司"}, headers=ops).status_code == 201
    assert client.post("/generic-groups", json=GROUP, headers=ops).status_code == 201
    assert client.post("/batches", json={**batch("420100"), "lines": [{"generic_group_id": "G-ATV", "winner_count": 1}]},
                       headers=ops).status_code == 201
    assert client.post("/non-winning-products", json=non_winning("NW1", "21.00"), headers=ops).status_code == 201
    assert published(db_url, DEARER) == []  # no winning price yet: nothing to compare with

    assert client.post("/winning-products", json=WINNING, headers=ops).status_code == 201
    [decided] = published(db_url, DEARER)
    data = decided["data"]
    assert (data["pooling_region_code"], data["profile_id"], data["source"]) == ("420100", "hubei-2019", "003_5bdb581359ce1a93.txt §四(四)")
    assert (data["payment_standard_per_trading_unit"], data["patient_pays_per_trading_unit"], data["first_self_pay_ratio_increase"]) == (
        "14.0000", "7.0000", None)
