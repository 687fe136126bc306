"""Batches (采购批次) with cycle rules from the region's profile, and contracts held to them, on real PostgreSQL."""
from __future__ import annotations

from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.contracts.conftest import HUBEI_BATCH, Auth, contract, count, published


def test_a_hubei_batch_gets_its_cycles_from_the_winner_counts_and_is_published_once(
    hubei: TestClient, db_url: str, ops: dict[str, str], token: Auth
) -> None:
    """003 §二(三): 3 winning companies → 2 years, at most 2 → 1 year."""
    first, again = (hubei.post("/batches", json=HUBEI_BATCH, headers=ops) for _ in range(2))
    assert (first.status_code, again.status_code, again.json()["created"]) == (201, 200, False)
    batch = hubei.get("/batches/GJ-2", headers=token("H1", Role.INSTITUTION)).json()
    assert (batch["profile_id"], batch["profile_version"]) == ("hubei-2019", 1)
    assert [(line["product_id"], line["cycle_years"], line["cycle_end"]) for line in batch["lines"]] == [
        ("P1", 2, "2027-12-31"), ("P2", 1, "2026-12-31")]
    [event] = published(db_url, "BatchPublished")
    assert event["partitionkey"] == "GJ-2" and event["data"]["lines"][0]["cycle_end"] == "2027-12-31"
    assert hubei.post("/batches", json={**HUBEI_BATCH, "title": "另一批"}, headers=ops).status_code == 409


def test_a_batch_outside_the_cycle_rules_is_refused_naming_the_field_and_changes_nothing(
    hubei: TestClient, db_url: str, ops: dict[str, str]
) -> None:
    for body, field in (
        ({**HUBEI_BATCH, "lines": [{"product_id": "P1", "winner_count": 3, "cycle_years": 1}]}, "lines[0].cycle_years"),
        ({**HUBEI_BATCH, "lines": [{"product_id": "P1", "winner_count": 4}]}, "lines[0].cycle_years"),
        ({**HUBEI_BATCH, "pooling_region_code": "110100"}, "pooling_region_code"),  # Beijing follows no profile here
        ({**HUBEI_BATCH, "lines": [{"winner_count": 2}]}, "lines[0]"),
        ({**HUBEI_BATCH, "lines": []}, "lines"),
        ({**HUBEI_BATCH, "cycle_start": "9999-01-01"}, "cycle_start"),  # no cycle is counted past the calendar's end
    ):
        r = hubei.post("/batches", json=body, headers=ops)
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", r.text
        assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    assert count(db_url, "select count(*) from event_store where stream_type = 'batch'") == 0
    assert published(db_url, "BatchPublished") == []
    guizhou = {**HUBEI_BATCH, "pooling_region_code": "520100", "lines": [{"product_id": "P1", "winner_count": 3, "cycle_years": 4}]}
    r = hubei.post("/batches", json=guizhou, headers=ops)  # 000 §四(三): 1—3 年
    assert r.status_code == 422 and "1 to 3 years" in r.json()["errors"][0]["reason"]


def test_a_contract_must_follow_its_batch_cycle(hubei: TestClient, db_url: str, ops: dict[str, str]) -> None:
    assert hubei.post("/batches", json=HUBEI_BATCH, headers=ops).status_code == 201
    for body, field in (
        (contract("C1", cycle_end="2026-12-31"), "cycle_end"),  # P1 has 3 winners: a 2-year cycle
        (contract("C1", cycle_start="2026-02-01"), "cycle_start"),
        (contract("C2", product_id="P2"), "cycle_end"),  # P2 has 2 winners: 1 year
    ):
        r = hubei.post("/contracts", json=body, headers=ops)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert count(db_url, "select count(*) from event_store") == count(db_url, "select count(*) from event_store where stream_type <> 'contract'")
    assert hubei.post("/contracts", json=contract("C1"), headers=ops).status_code == 201
    assert hubei.post("/contracts", json=contract("C2", product_id="P2", cycle_end="2026-12-31"), headers=ops).status_code == 201


def test_extending_a_cycle_extends_every_contract_on_it_once(hubei: TestClient, db_url: str, ops: dict[str, str], token: Auth) -> None:
    """003 §二(三): 采购周期视实际情况可延长一年 — and no more."""
    assert hubei.post("/batches", json=HUBEI_BATCH, headers=ops).status_code == 201
    for body in (contract("C1"), contract("C2", institution_id="H2"), contract("C3", product_id="P2", cycle_end="2026-12-31")):
        assert hubei.post("/contracts", json=body, headers=ops).status_code == 201
    extension = {"extension_id": "GJ-2-X1", "years": 1, "extended_on": "2027-11-20", "reason": "供应稳定，续期一年", "product_id": "P1"}
    first, again = (hubei.post("/batches/GJ-2/cycle-extensions", json=extension, headers=ops) for _ in range(2))
    assert (first.status_code, again.status_code, again.json()["created"]) == (201, 200, False)
    extended = published(db_url, "ContractCycleExtended")
    assert sorted((e["data"]["contract_id"], e["data"]["previous_cycle_end"], e["data"]["cycle_end"]) for e in extended) == [
        ("C1", "2027-12-31", "2028-12-31"), ("C2", "2027-12-31", "2028-12-31")]
    assert hubei.get("/contracts/C1", headers=ops).json()["cycle_end"] == "2028-12-31"
    assert hubei.get("/contracts/C3", headers=ops).json()["cycle_end"] == "2026-12-31"
    lines = {line["product_id"]: line for line in hubei.get("/batches/GJ-2", headers=ops).json()["lines"]}
    assert (lines["P1"]["cycle_years"], lines["P1"]["cycle_end"]) == (3, "2028-12-31")
    # a contract signed now follows the extended cycle
    assert hubei.post("/contracts", json=contract("C4", institution_id="H2", cycle_end="2027-12-31"), headers=ops).status_code == 422
    assert hubei.post("/contracts", json=contract("C4", institution_id="H2", cycle_end="2028-12-31"), headers=ops).status_code == 201

    r = hubei.post("/batches/GJ-2/cycle-extensions", json={**extension, "extension_id": "GJ-2-X2"}, headers=ops)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "years"
    assert hubei.post("/batches/GJ-2/cycle-extensions", json={**extension, "reason": "另一个理由"}, headers=ops).status_code == 409
    r = hubei.post("/batches/GJ-9/cycle-extensions", json=extension, headers=ops)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "batch_id"
    assert hubei.post("/batches/GJ-2/cycle-extensions", json=extension, headers=token("H1", Role.INSTITUTION)).status_code == 403
    assert len(published(db_url, "ContractCycleExtended")) == 2


def test_a_contract_outside_any_published_batch_is_signed_as_before_with_a_volume_beyond_int4(hubei: TestClient, ops: dict[str, str]) -> None:
    """Products of batches not published here keep the old rule: any cycle, so existing integrations keep working."""
    big = contract("C1", cycle_end="2026-06-30", agreed_quantity=5_000_000_000)
    assert hubei.post("/contracts", json=big, headers=ops).status_code == 201
    agreement = hubei.get("/yearly-agreements/C1-y1", headers=ops).json()
    assert (agreement["year_end"], agreement["agreed_quantity"], agreement["owed_quantity"]) == ("2026-06-30", 5_000_000_000, 5_000_000_000)
    r = hubei.post("/contracts", json=contract("C2", cycle_start="9999-06-01", cycle_end="9999-12-31"), headers=ops)
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"cycle_start", "cycle_end"}
