"""Shared setup of the contracts service tests: a fresh database, the app, and a Hubei batch's parties."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from jicai_kit.auth import Role
from tests.support.shared_apps import DefaultApps, SharedApp

Auth = Callable[[str, Role], dict[str, str]]

HUBEI_BATCH = {"batch_id": "GJ-2", "title": "第二批国家组织药品集中采购（湖北）", "pooling_region_code": "420100", "cycle_start": "2026-01-01",
               "lines": [{"product_id": "P1", "winner_count": 3}, {"product_id": "P2", "winner_count": 2}]}


@pytest.fixture
def contracts(default_apps: DefaultApps) -> SharedApp:
    """The contracts app every module shares (tests/support/shared_apps.py), on empty tables."""
    return default_apps.default("contracts")


@pytest.fixture
def db_url(contracts: SharedApp) -> str:
    return contracts.url


@pytest.fixture
def client(contracts: SharedApp) -> TestClient:
    return contracts.client


@pytest.fixture
def ops(token: Auth) -> dict[str, str]:
    return token("OPS", Role.OPERATOR)


@pytest.fixture
def hubei(client: TestClient, ops: dict[str, str]) -> TestClient:
    """Two Wuhan hospitals, a manufacturer, a distributor and two winning products of batch GJ-2 (not yet published)."""
    for n in (1, 2):
        institution = {"institution_id": f"H{n}", "name": f"武汉市第{n}医院", "pooling_region_code": "420100", "county_code": "420102"}
        assert client.post("/institutions", json=institution, headers=ops).status_code == 201
    assert client.post("/manufacturers", json={"party_id": "M1", "name": "某制药有限公司"}, headers=ops).status_code == 201
    assert client.post("/distributors", json={"party_id": "D1", "name": "某医药配送公司"}, headers=ops).status_code == 201
    for product_id in ("P1", "P2"):
        product = {"product_id": product_id, "batch_id": "GJ-2", "generic_name": f"药品{product_id}", "dosage_form": "片剂",
                   "specification": "20mg*7片", "manufacturer_id": "M1", "winning_unit_price": "1.9800", "trading_unit": "盒"}
        assert client.post("/winning-products", json=product, headers=ops).status_code == 201
    return client


def contract(contract_id: str, institution_id: str = "H1", product_id: str = "P1", **changes: Any) -> dict[str, Any]:
    return {"contract_id": contract_id, "institution_id": institution_id, "manufacturer_id": "M1", "distributor_id": "D1",
            "product_id": product_id, "unit_price": "1.98", "agreed_quantity": 1200, "cycle_start": "2026-01-01",
            "cycle_end": "2027-12-31", "signed_on": "2025-12-20"} | changes


def published(db_url: str, event_name: str) -> list[dict[str, Any]]:
    """The integration events of one type in the outbox, oldest first."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        sql = f"select payload from outbox where convert_from(payload, 'UTF8') like '%.{event_name}.v1%' order by id"
        rows = conn.execute(text(sql)).all()
    engine.dispose()
    return [json.loads(bytes(r.payload)) for r in rows]


def count(db_url: str, sql: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar_one()
    engine.dispose()
    return int(value)
