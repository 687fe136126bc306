"""任务量分解 by the pooling region's profile (issue 3): method and county grouping come from the profile's [allocation]."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

# region, a county of it, profile, the API method it stands for, profile's method, primary care by county, notice section
REGIONS = [
    ("370100", "370102", "shandong-2021", "reported_demand_ratio", "reported_demand_times_ratio", False, "001_450b5b2068b38bb5.txt §一"),
    ("520100", "520102", "guizhou-2020", "share_of_platform_purchases", "share_of_platform_purchases", False, "000_0b8eb23f70a351bf.txt §五(一)"),
    ("500000", "500103", "chongqing-2019", "percent_of_last_year_use", "share_of_last_year_use", False, "004_9f3f38a2952ba61f.txt §二(二)"),
    ("420100", "420102", "hubei-2019", "reported_demand_ratio", "reported_demand", True, "003_5bdb581359ce1a93.txt §四(一)"),
    ("500099", "500112", "chongqing-liangjiang-2023", "reported_demand_ratio", "reported_demand", False, "002_ebc7cb9ae90d6151.txt §三(一)"),
]
METHOD_OF = {region: method for region, _, _, method, *_ in REGIONS}


@pytest.fixture
def parties(client: TestClient, ops: dict[str, str]) -> TestClient:
    """Two institutions in each of the five profiles' regions (the second in another county) and product P1."""
    for region, county, *_ in REGIONS:
        for n, county_code in ((1, county), (2, f"{county[:4]}99")):
            institution = {"institution_id": f"H{region}-{n}", "name": f"{region}第{n}医院", "pooling_region_code": region, "county_code": county_code}
            assert client.post("/institutions", json=institution, headers=ops).status_code == 201
    assert client.post("/manufacturers", json={"party_id": "M1", "name": "某制药有限公司"}, headers=ops).status_code == 201
    product = {"product_id": "P1", "batch_id": "GJ-2", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "specification": "20mg*7片",
               "manufacturer_id": "M1", "winning_unit_price": "1.9800", "trading_unit": "盒"}
    assert client.post("/winning-products", json=product, headers=ops).status_code == 201
    return client


def allocation(region: str, method: str | None = None, **changes: Any) -> dict[str, Any]:
    """An allocation of P1 for 2026 over the region's two institutions; a total for platform shares, else a ratio of 0.65."""
    body: dict[str, Any] = {"allocation_id": f"A-{region}", "product_id": "P1", "agreement_year": 2026, "pooling_region_code": region,
                            "bases": [{"institution_id": f"H{region}-1", "quantity": 600}, {"institution_id": f"H{region}-2", "quantity": 400}]}
    body |= {"total": 1000} if (method or METHOD_OF[region]) == "share_of_platform_purchases" else {"ratio": "0.65"}
    if method is not None:
        body["method"] = method
    return body | changes


def refused(response: Any) -> tuple[int, str, str]:
    error = response.json()["errors"][0]
    return response.status_code, error["field"], error["reason"]


@pytest.mark.parametrize(("region", "county", "profile_id", "method", "profile_method", "by_county", "source"), REGIONS)
def test_the_regions_profile_decides_method_and_grouping_and_the_allocation_shows_it(
    parties: TestClient, ops: dict[str, str], region: str, county: str, profile_id: str, method: str, profile_method: str, by_county: bool, source: str
) -> None:
    """Per profile (notice ``source``): omitted method and grouping are the profile's; GET shows region, profile and method."""
    assert parties.post("/volume-allocations", json=allocation(region), headers=ops).status_code == 201
    shown = parties.get(f"/volume-allocations/A-{region}", headers=ops).json()
    assert (shown["pooling_region_code"], shown["profile_id"], shown["profile_version"]) == (region, profile_id, 1)
    assert (shown["method"], shown["profile_method"], shown["group_by_county"]) == (method, profile_method, by_county)
    assert sum(line["allocated_quantity"] for line in shown["lines"]) == (1000 if method == "share_of_platform_purchases" else 650)
    # stating the profile's own method and grouping is the same draft
    same = allocation(region, method, group_by_county=by_county)
    assert parties.post("/volume-allocations", json=same, headers=ops).json()["created"] is False


@pytest.mark.parametrize(("region", "county", "profile_id", "method", "profile_method", "by_county", "source"), REGIONS)
def test_another_method_or_grouping_than_the_profiles_is_refused_citing_the_notice(
    parties: TestClient, ops: dict[str, str], region: str, county: str, profile_id: str, method: str, profile_method: str, by_county: bool, source: str
) -> None:
    for other in {"reported_demand_ratio", "share_of_platform_purchases", "percent_of_last_year_use"} - {method}:
        status, field, reason = refused(parties.post("/volume-allocations", json=allocation(region, other), headers=ops))
        assert (status, field) == (422, "method")
        assert profile_method in reason and source in reason
    status, field, reason = refused(parties.post("/volume-allocations", json=allocation(region, group_by_county=not by_county), headers=ops))
    assert (status, field) == (422, "group_by_county") and source in reason
    assert parties.get(f"/volume-allocations/A-{region}", headers=ops).status_code == 404


@pytest.mark.parametrize(("ratio", "status"), [("0.60", 201), ("0.70", 201), ("0.71", 422), ("0.59", 422)])
def test_chongqing_ratio_of_last_years_use_lies_within_60_and_70_percent_004_section_2_2(
    parties: TestClient, ops: dict[str, str], ratio: str, status: int
) -> None:
    r = parties.post("/volume-allocations", json=allocation("500000", ratio=ratio), headers=ops)
    assert r.status_code == status
    if status == 422:
        assert refused(r)[1] == "ratio" and "0.60..0.70" in refused(r)[2]


def test_hubei_groups_primary_care_by_county_from_the_profile_003_section_4_1(parties: TestClient, ops: dict[str, str]) -> None:
    """003 §四(一): 5 units over two institutions of one county and one of another: the lone county's institution gets 2 (flat it would get 1)."""
    assert parties.post("/institutions", json={"institution_id": "H420100-3", "name": "武汉市第3医院", "pooling_region_code": "420100",
                                                "county_code": "420102"}, headers=ops).status_code == 201
    body = allocation("420100", ratio="0.8333", bases=[{"institution_id": i, "quantity": 2} for i in ("H420100-1", "H420100-3", "H420100-2")])
    assert parties.post("/volume-allocations", json=body, headers=ops).status_code == 201
    shown = parties.get("/volume-allocations/A-420100", headers=ops).json()
    assert shown["group_by_county"] is True
    assert {line["institution_id"]: line["allocated_quantity"] for line in shown["lines"]} == {"H420100-1": 2, "H420100-3": 1, "H420100-2": 2}


def test_an_institution_of_a_region_with_another_profile_is_refused(parties: TestClient, ops: dict[str, str]) -> None:
    """Liangjiang's institutions (500099) follow their own notice 002 from 2023, not Chongqing's 004: not part of a Chongqing allocation."""
    bases = [{"institution_id": "H500000-1", "quantity": 600}, {"institution_id": "H500099-1", "quantity": 400}]
    status, field, reason = refused(parties.post("/volume-allocations", json=allocation("500000", bases=bases), headers=ops))
    assert (status, field) == (422, "bases[1].institution_id") and "chongqing-liangjiang-2023" in reason
    # before 2023 the new area followed the municipal notice: one allocation for 2022 takes both
    assert parties.post("/volume-allocations", json=allocation("500000", bases=bases, agreement_year=2022), headers=ops).status_code == 201
    status, field, _ = refused(parties.post("/volume-allocations", json=allocation("500000", pooling_region_code="999999"), headers=ops))
    assert (status, field) == (422, "pooling_region_code")
