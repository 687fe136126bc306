"""Filing purchases (备案采购) through the API on real PostgreSQL, with the year's amount against the profile's warning line."""
from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.orders import test_api as base
from tests.service.orders.test_api import Auth, _contract, _count, _deliver, _published

client = base.client
db_url = base.db_url


def _filing(**changes: Any) -> dict[str, Any]:
    return {"filing_id": "F-1", "institution_id": "H1", "generic_name": "注射用头孢曲松钠", "specification": "1g",
            "manufacturer_name": "某药业", "quantity": 3, "unit_price": "12.3456", "purchased_on": "2026-03-02",
            "filed_on": "2026-03-01", "reason": "中选产品断供", **changes}


def test_a_filing_purchase_is_recorded_once_and_shows_the_years_amount(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    r = client.post("/filing-purchases", json=_filing(), headers=his)
    assert r.status_code == 201
    assert r.json()["standing"] == {"year": 2026, "amount": "37.04", "profile_id": "guizhou-2020", "profile_version": 1,
                                    "warning_line_enabled": False, "warning_line": None, "over_line": None}
    again = client.post("/filing-purchases", json=_filing(), headers=his)
    assert again.status_code == 200 and again.json()["created"] is False
    assert client.post("/filing-purchases", json=_filing(quantity=4), headers=his).status_code == 409
    client.post("/filing-purchases", json=_filing(filing_id="F-2", purchased_on="2026-11-30"), headers=his)
    client.post("/filing-purchases", json=_filing(filing_id="F-3", purchased_on="2027-01-04"), headers=his)
    year = client.get("/institutions/H1/filing-purchases?year=2026", headers=his).json()
    assert (year["amount"], [f["filing_id"] for f in year["filings"]]) == ("74.08", ["F-1", "F-2"])
    [published] = _published(db_url, "FilingPurchaseRecorded")[:1]
    assert (published["data"]["amount"], published["data"]["pooling_region_code"]) == ("37.04", "520100")


def test_liangjiang_enables_the_warning_line_whose_amount_the_bureau_sets(client: TestClient, token: Auth) -> None:
    assert _deliver(client, _contract("C-LJ", "H9", "D1", "1.0000").model_copy(update={"pooling_region_code": "500099"})) == "handled"
    r = client.post("/filing-purchases", json=_filing(institution_id="H9"), headers=token("H9", Role.INSTITUTION))
    standing = r.json()["standing"]
    assert (standing["profile_id"], standing["warning_line_enabled"], standing["warning_line"]) == ("chongqing-liangjiang-2023", True, None)


def test_only_the_institution_files_and_bad_input_names_the_field(client: TestClient, db_url: str, token: Auth) -> None:
    assert client.post("/filing-purchases", json=_filing(), headers=token("H2", Role.INSTITUTION)).status_code == 403
    assert client.post("/filing-purchases", json=_filing(), headers=token("D1", Role.DISTRIBUTOR)).status_code == 403
    unknown = client.post("/filing-purchases", json=_filing(institution_id="H404"), headers=token("H404", Role.INSTITUTION))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "institution_id"
    cases: list[tuple[dict[str, Any], str]] = [({"quantity": 0}, "quantity"), ({"reason": ""}, "reason"), ({"unit_price": "-1"}, "unit_price")]
    for changes, field in cases:
        r = client.post("/filing-purchases", json=_filing(**changes), headers=token("H1", Role.INSTITUTION))
        assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}
    assert _count(db_url, "select count(*) from filing_purchases") == 0
    assert client.get("/institutions/H1/filing-purchases?year=2026", headers=token("D1", Role.DISTRIBUTOR)).status_code == 403
    assert client.get("/institutions/H1/filing-purchases", headers=token("H1", Role.INSTITUTION)).status_code == 422
