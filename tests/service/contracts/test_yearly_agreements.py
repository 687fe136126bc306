"""Yearly agreements (年度采购协议) through the API, and the volume still owed as orders' acceptances and returns arrive."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from fastapi.testclient import TestClient

from jicai_contracts.bootstrap import ORDERS_CONSUMER
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import DeliveryAccepted, DeliveryReturned
from jicai_events.envelope import Envelope
from jicai_events.types import BUSINESS_TZ
from jicai_kit.auth import Role
from tests.service.contracts.conftest import HUBEI_BATCH, Auth, contract, count, published


def _deliver(client: TestClient, event: IntegrationEvent, event_id: str | None = None) -> str:
    """Hand the envelope to the real consumer, exactly as a Kafka delivery would."""
    consumer = client.app.state.runtime.event_consumer(ORDERS_CONSUMER)  # type: ignore[attr-defined]
    envelope = Envelope.wrap(event, time=datetime(2026, 3, 2, 9, 0, tzinfo=BUSINESS_TZ), event_id=event_id)
    return client.portal.call(consumer.deliver, envelope)  # type: ignore[union-attr, no-any-return]


def _accepted(acceptance_id: str, quantity: int, on: date, contract_id: str = "C1", institution_id: str = "H1") -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=acceptance_id, external_id=f"HIS-{acceptance_id}", institution_id=institution_id, pooling_region_code="420100",
        contract_id=contract_id, product_id="P1", distributor_id="D1", accepted_quantity=quantity, rejected_quantity=0, accepted_on=on,
        lot_number="L1", unit_price=Decimal("1.9800"), accepted_amount=Decimal("1.98") * quantity,
    )


def _returned(return_id: str, acceptance_id: str, quantity: int, on: date) -> DeliveryReturned:
    return DeliveryReturned(return_id=return_id, acceptance_id=acceptance_id, institution_id="H1", pooling_region_code="420100",
                            contract_id="C1", product_id="P1", distributor_id="D1", returned_quantity=quantity,
                            returned_amount=Decimal("1.98") * quantity, returned_on=on, reason="破损")


def _sign(client: TestClient, ops: dict[str, str]) -> None:
    assert client.post("/batches", json=HUBEI_BATCH, headers=ops).status_code == 201
    assert client.post("/contracts", json=contract("C1"), headers=ops).status_code == 201
    assert client.post("/contracts", json=contract("C2", institution_id="H2", agreed_quantity=800), headers=ops).status_code == 201


def _owed(client: TestClient, agreement_id: str, headers: dict[str, str]) -> tuple[int, int, int, int]:
    a = client.get(f"/yearly-agreements/{agreement_id}", headers=headers).json()
    return a["agreed_quantity"], a["accepted_quantity"], a["returned_quantity"], a["owed_quantity"]


def test_signing_a_contract_signs_its_first_yearly_agreement_in_the_same_transaction(
    hubei: TestClient, db_url: str, ops: dict[str, str]
) -> None:
    _sign(hubei, ops)
    assert hubei.post("/contracts", json=contract("C1"), headers=ops).json()["created"] is False  # a retry signs nothing more
    signed = [e["data"] for e in published(db_url, "YearlyAgreementSigned")]
    assert [(s["agreement_id"], s["agreement_year"], s["year_start"], s["year_end"], s["agreed_quantity"]) for s in signed] == [
        ("C1-y1", 1, "2026-01-01", "2026-12-31", 1200), ("C2-y1", 1, "2026-01-01", "2026-12-31", 800)]
    assert "manufacturer_id" not in signed[0]  # the agreed contract, exactly
    assert _owed(hubei, "C1-y1", ops) == (1200, 0, 0, 1200)


def test_acceptances_and_returns_count_in_the_agreement_year_of_the_acceptance(hubei: TestClient, db_url: str, ops: dict[str, str]) -> None:
    _sign(hubei, ops)
    assert _deliver(hubei, _accepted("A1", 300, date(2026, 3, 2)), event_id="evt-a1") == "handled"
    assert _deliver(hubei, _accepted("A1", 300, date(2026, 3, 2)), event_id="evt-a1") == "duplicate"
    assert _deliver(hubei, _accepted("A1", 300, date(2026, 3, 2)), event_id="evt-a1-resent") == "handled"  # same fact, counted once
    assert _deliver(hubei, _accepted("A2", 200, date(2027, 1, 4))) == "handled"  # year 2, not yet rolled over
    assert _deliver(hubei, _returned("R1", "A1", 50, date(2027, 1, 10))) == "handled"  # returned in 2027, off the 2026 acceptance
    assert _owed(hubei, "C1-y1", ops) == (1200, 300, 50, 950)
    assert _owed(hubei, "C2-y1", ops) == (800, 0, 0, 800)

    r = hubei.post("/yearly-agreements/C1-y1/rollover", json={"rolled_over_on": "2026-12-28"}, headers=ops)
    assert (r.status_code, r.json()) == (201, {"id": "C1-y2", "created": True})
    assert _owed(hubei, "C1-y2", ops) == (1200, 200, 0, 1000)  # the January acceptance waited for its year
    [rolled] = [e["data"] for e in published(db_url, "YearlyAgreementRolledOver")]
    assert (rolled["previous_agreement_id"], rolled["owed_quantity_at_rollover"], rolled["year_start"]) == ("C1-y1", 950, "2027-01-01")
    assert [a["agreement_id"] for a in hubei.get("/contracts/C1/yearly-agreements", headers=ops).json()] == ["C1-y1", "C1-y2"]


def test_rolling_over_is_idempotent_and_stops_at_the_cycle_end(hubei: TestClient, db_url: str, ops: dict[str, str]) -> None:
    _sign(hubei, ops)
    body = {"rolled_over_on": "2026-12-28", "agreed_quantity": 1000}
    first, again = (hubei.post("/yearly-agreements/C1-y1/rollover", json=body, headers=ops) for _ in range(2))
    assert (first.status_code, again.status_code, again.json()) == (201, 200, {"id": "C1-y2", "created": False})
    assert hubei.post("/yearly-agreements/C1-y1/rollover", json={**body, "agreed_quantity": 900}, headers=ops).status_code == 409
    r = hubei.post("/yearly-agreements/C1-y2/rollover", json={"rolled_over_on": "2027-12-28"}, headers=ops)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "agreement_id"  # P1's 2-year cycle ends 2027-12-31
    assert hubei.post("/yearly-agreements/C9-y1/rollover", json=body, headers=ops).status_code == 404
    extension = {"extension_id": "X1", "years": 1, "extended_on": "2027-11-30", "reason": "延长一年", "product_id": "P1"}
    assert hubei.post("/batches/GJ-2/cycle-extensions", json=extension, headers=ops).status_code == 201
    r = hubei.post("/yearly-agreements/C1-y2/rollover", json={"rolled_over_on": "2027-12-28"}, headers=ops)
    assert (r.status_code, r.json()["id"]) == (201, "C1-y3")
    assert _owed(hubei, "C1-y3", ops) == (1000, 0, 0, 1000)
    assert len(published(db_url, "YearlyAgreementRolledOver")) == 2


def test_amending_an_agreement_never_goes_below_what_is_accepted(hubei: TestClient, db_url: str, ops: dict[str, str], token: Auth) -> None:
    _sign(hubei, ops)
    assert _deliver(hubei, _accepted("A1", 300, date(2026, 3, 2))) == "handled"
    r = hubei.post("/yearly-agreements/C1-y1/amendments", json={"agreed_quantity": 299, "amended_on": "2026-06-01", "reason": "需求下降"},
                   headers=ops)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "agreed_quantity"
    body = {"agreed_quantity": 300, "amended_on": "2026-06-01", "reason": "需求下降"}
    first, again = (hubei.post("/yearly-agreements/C1-y1/amendments", json=body, headers=ops) for _ in range(2))
    assert (first.status_code, again.status_code, again.json()["created"]) == (201, 200, False)
    [amended] = [e["data"] for e in published(db_url, "YearlyAgreementAmended")]
    assert (amended["previous_agreed_quantity"], amended["agreed_quantity"], amended["reallocation_id"]) == (1200, 300, None)
    assert _owed(hubei, "C1-y1", ops) == (300, 300, 0, 0)
    assert hubei.post("/yearly-agreements/C9-y1/amendments", json=body, headers=ops).status_code == 404
    assert hubei.post("/yearly-agreements/C1-y1/amendments", json=body, headers=token("H1", Role.INSTITUTION)).status_code == 403


def test_a_reallocation_moves_volume_between_hospitals_all_at_once(hubei: TestClient, db_url: str, ops: dict[str, str]) -> None:
    _sign(hubei, ops)
    assert _deliver(hubei, _accepted("A1", 1000, date(2026, 3, 2))) == "handled"
    body = {"reallocation_id": "RA-P1-2026", "amended_on": "2026-07-01", "reason": "H2 需求减少，调剂给 H1",
            "lines": [{"agreement_id": "C1-y1", "agreed_quantity": 1500}, {"agreement_id": "C2-y1", "agreed_quantity": 500}]}
    for lines, field in (
        ([{"agreement_id": "C1-y1", "agreed_quantity": 1600}, {"agreement_id": "C2-y1", "agreed_quantity": 500}], "lines"),
        ([{"agreement_id": "C2-y1", "agreed_quantity": 1100}, {"agreement_id": "C1-y1", "agreed_quantity": 900}], "lines[1].agreed_quantity"),
        ([{"agreement_id": "C1-y1", "agreed_quantity": 1500}, {"agreement_id": "C9-y1", "agreed_quantity": 500}], "lines[1].agreement_id"),
    ):
        r = hubei.post("/reallocations", json={**body, "lines": lines}, headers=ops)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert published(db_url, "YearlyAgreementAmended") == []  # nothing moved
    assert count(db_url, "select count(*) from event_store where stream_type = 'reallocation'") == 0

    first, again = (hubei.post("/reallocations", json=body, headers=ops) for _ in range(2))
    assert (first.status_code, again.status_code, again.json()["created"]) == (201, 200, False)
    amended = [e["data"] for e in published(db_url, "YearlyAgreementAmended")]
    assert [(a["agreement_id"], a["previous_agreed_quantity"], a["agreed_quantity"], a["reallocation_id"]) for a in amended] == [
        ("C1-y1", 1200, 1500, "RA-P1-2026"), ("C2-y1", 800, 500, "RA-P1-2026")]
    assert (_owed(hubei, "C1-y1", ops), _owed(hubei, "C2-y1", ops)) == ((1500, 1000, 0, 500), (500, 0, 0, 500))
    changed = {**body, "lines": [{"agreement_id": "C1-y1", "agreed_quantity": 1400}, {"agreement_id": "C2-y1", "agreed_quantity": 600}]}
    assert hubei.post("/reallocations", json=changed, headers=ops).status_code == 409


def test_yearly_agreements_are_read_by_their_parties_only(hubei: TestClient, ops: dict[str, str], token: Auth) -> None:
    _sign(hubei, ops)
    h1, h2, m1 = token("H1", Role.INSTITUTION), token("H2", Role.INSTITUTION), token("M1", Role.MANUFACTURER)
    assert hubei.get("/yearly-agreements/C1-y1", headers=h1).status_code == 200
    assert hubei.get("/yearly-agreements/C1-y1", headers=h2).status_code == 403
    assert hubei.get("/yearly-agreements/C1-y9", headers=ops).status_code == 404
    assert hubei.get("/contracts/C1/yearly-agreements", headers=h2).status_code == 403
    assert [a["agreement_id"] for a in hubei.get("/yearly-agreements", headers=h2).json()] == ["C2-y1"]
    assert [a["agreement_id"] for a in hubei.get("/yearly-agreements", params={"institution_id": "H1"}, headers=h2).json()] == []
    assert [a["agreement_id"] for a in hubei.get("/yearly-agreements", params={"institution_id": "H1"}, headers=ops).json()] == ["C1-y1"]
    assert [a["agreement_id"] for a in hubei.get("/yearly-agreements", headers=m1).json()] == ["C1-y1", "C2-y1"]


def test_agreements_and_what_is_owed_rebuild_from_the_event_store(hubei: TestClient, ops: dict[str, str]) -> None:
    from jicai_contracts.adapters.repository import streams
    from jicai_contracts.adapters.tables import READ_MODELS

    _sign(hubei, ops)
    assert _deliver(hubei, _accepted("A1", 300, date(2026, 3, 2))) == "handled"
    assert _deliver(hubei, _returned("R1", "A1", 20, date(2026, 4, 1))) == "handled"
    assert hubei.post("/yearly-agreements/C1-y1/rollover", json={"rolled_over_on": "2026-12-28"}, headers=ops).status_code == 201
    extension = {"extension_id": "X1", "years": 1, "extended_on": "2027-11-30", "reason": "延长一年"}
    assert hubei.post("/batches/GJ-2/cycle-extensions", json=extension, headers=ops).status_code == 201
    before = (hubei.get("/yearly-agreements", headers=ops).json(), hubei.get("/batches/GJ-2", headers=ops).json(),
              hubei.get("/contracts", headers=ops).json())
    runtime = hubei.app.state.runtime  # type: ignore[attr-defined]

    async def rebuild() -> int:
        async with runtime.unit_of_work() as uow:
            return int(await streams.rebuild(uow, READ_MODELS))

    assert hubei.portal.call(rebuild) > 0  # type: ignore[union-attr]
    after = (hubei.get("/yearly-agreements", headers=ops).json(), hubei.get("/batches/GJ-2", headers=ops).json(),
             hubei.get("/contracts", headers=ops).json())
    assert after == before and before[0][0]["owed_quantity"] == 920
