"""The orders API on real PostgreSQL: what a hospital's HIS, a distributor and operators see."""
from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_events.catalog import ContractSigned
from jicai_events.envelope import Envelope
from jicai_events.types import BUSINESS_TZ
from jicai_kit.auth import Role
from jicai_orders.bootstrap import CONTRACTS_CONSUMER
from tests.support import infra
from tests.support.shared_apps import SharedApp

Auth = Callable[[str, Role], dict[str, str]]


def _contract(contract_id: str, institution_id: str, distributor_id: str, unit_price: str) -> ContractSigned:
    return ContractSigned(
        contract_id=contract_id, institution_id=institution_id, pooling_region_code="520100", manufacturer_id="M1",
        distributor_id=distributor_id, product_id="P1", unit_price=Decimal(unit_price), agreed_quantity=1200,
        cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31), signed_on=date(2025, 12, 20),
    )


C1 = _contract("C1", "H1", "D1", "2.0050")  # 5 × 2.005 = 10.025 → 10.03 (half up)
C2 = _contract("C2", "H2", "D1", "2.0050")
C3 = _contract("C3", "H1", "D2", "12.3456")


@pytest.fixture
def db_url(orders: SharedApp) -> str:
    return orders.url


@pytest.fixture
def client(orders: SharedApp) -> TestClient:
    c = orders.client
    for contract in (C1, C2, C3):
        assert _deliver(c, contract) == "handled"
    return c


def _deliver(client: TestClient, event: ContractSigned, event_id: str | None = None) -> str:
    """Hand the envelope to the real consumer, exactly as a Kafka delivery would."""
    consumer = client.app.state.runtime.event_consumer(CONTRACTS_CONSUMER)  # type: ignore[attr-defined]
    envelope = Envelope.wrap(event, time=datetime(2025, 12, 20, 9, 0, tzinfo=BUSINESS_TZ), event_id=event_id)
    assert client.portal is not None
    outcome: str = client.portal.call(consumer.deliver, envelope)
    return outcome


def _count(db_url: str, sql: str) -> int:
    return int(_rows(db_url, sql)[0][0])


def _rows(db_url: str, sql: str) -> list[Any]:
    return infra.rows(db_url, sql)


def _published(db_url: str, event_name: str) -> list[dict[str, Any]]:
    sql = f"select payload from outbox where convert_from(payload, 'UTF8') like '%.{event_name}.v1%' order by id"
    payloads = _rows(db_url, sql)
    return [json.loads(bytes(p.payload)) for p in payloads]


def _line(external_id: str, contract_id: str = "C1", **changes: Any) -> dict[str, Any]:
    return {"external_id": external_id, "contract_id": contract_id, "accepted_quantity": 5, "rejected_quantity": 0,
            "accepted_on": "2026-03-02", "lot_number": "L2026A", **changes}


def _push(client: TestClient, auth: dict[str, str], *lines: dict[str, Any], institution: str = "H1") -> Any:
    return client.post(f"/institutions/{institution}/acceptances:batch", json={"lines": list(lines)}, headers=auth)


# --- acceptances ---------------------------------------------------------------------------------------------------


def test_a_batch_records_the_valid_lines_and_says_why_the_others_were_rejected(
    client: TestClient, db_url: str, token: Auth
) -> None:
    his = token("H1", Role.INSTITUTION)
    r = _push(
        client, his,
        _line("RK-1"),
        _line("RK-2", accepted_quantity=8, rejected_quantity=2, rejection_reason="外包装破损"),
        _line("RK-3", contract_id="C404"),
        _line("RK-4", contract_id="C2"),
        _line("RK-5", accepted_on="2027-01-01"),
        _line("RK-6", accepted_quantity=0),
    )
    assert r.status_code == 200
    body = r.json()
    assert [(x["external_id"], x["status"]) for x in body["results"]] == [
        ("RK-1", "accepted"), ("RK-2", "accepted"), ("RK-3", "rejected"),
        ("RK-4", "rejected"), ("RK-5", "rejected"), ("RK-6", "rejected"),
    ]
    assert (body["accepted"], body["duplicates"], body["rejected"], body["errors"]) == (2, 0, 4, True)
    assert body["results"][0] == {"external_id": "RK-1", "status": "accepted", "acceptance_id": "H1:RK-1"}
    reasons = [x["reason"] for x in body["results"][2:]]
    assert "C404" in reasons[0] and "not known" in reasons[0]
    assert "not a contract of institution H1" in reasons[1]
    assert "outside the contract cycle" in reasons[2]
    assert "no delivery" in reasons[3]
    assert all("acceptance_id" not in x for x in body["results"][2:])

    got = client.get("/acceptances/H1:RK-1", headers=his).json()
    assert (got["unit_price"], got["accepted_amount"]) == ("2.0050", "10.03")
    assert (got["distributor_id"], got["pooling_region_code"], got["invoiced_quantity"]) == ("D1", "520100", 0)
    assert client.get("/acceptances/H1:RK-2", headers=his).json()["accepted_amount"] == "16.04"
    assert client.get("/acceptances/H1:RK-3", headers=his).status_code == 404
    assert _count(db_url, "select count(*) from acceptances") == 2

    published = _published(db_url, "DeliveryAccepted")
    assert [p["data"]["acceptance_id"] for p in published] == ["H1:RK-1", "H1:RK-2"]
    first = published[0]
    assert first["partitionkey"] == "H1" and first["subject"] == "H1:RK-1"
    assert first["data"]["accepted_amount"] == "10.03" and first["data"]["accepted_on"] == "2026-03-02"
    assert published[1]["data"]["rejection_reason"] == "外包装破损"


def test_the_same_push_twice_counts_once(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    lines = [_line(f"RK-{i}") for i in range(20)]
    first = _push(client, his, *lines).json()
    again = _push(client, his, *lines).json()
    assert (first["accepted"], first["duplicates"]) == (20, 0)
    assert (again["accepted"], again["duplicates"], again["rejected"], again["errors"]) == (0, 20, 0, False)
    assert {x["status"] for x in again["results"]} == {"duplicate"}
    assert again["results"][7]["acceptance_id"] == "H1:RK-7"
    assert _count(db_url, "select count(*) from acceptances") == 20
    assert _count(db_url, "select count(*) from event_store where stream_type = 'acceptance'") == 20
    assert _count(db_url, "select count(distinct stream_id) from event_store where stream_id like 'acceptance-H1-RK-%'") == 20
    assert len(_published(db_url, "DeliveryAccepted")) == 20


def test_the_same_external_id_with_other_content_is_rejected_and_the_first_stays(
    client: TestClient, db_url: str, token: Auth
) -> None:
    his = token("H1", Role.INSTITUTION)
    _push(client, his, _line("RK-1"))
    r = _push(client, his, _line("RK-1", accepted_quantity=50), _line("RK-2")).json()
    conflicting = {"external_id": "RK-1", "status": "rejected", "reason": "conflicts with the acceptance recorded earlier"}
    assert r["results"][0] == conflicting
    assert r["results"][1]["status"] == "accepted"
    assert client.get("/acceptances/H1:RK-1", headers=his).json()["accepted_quantity"] == 5
    assert len(_published(db_url, "DeliveryAccepted")) == 2


def test_concurrent_identical_pushes_are_counted_once(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    lines = [_line(f"RK-{i:03d}") for i in range(60)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda _: _push(client, his, *lines), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    bodies = [r.json() for r in responses]
    assert sum(b["accepted"] for b in bodies) == 60
    assert sum(b["duplicates"] for b in bodies) == 3 * 60
    assert all(b["rejected"] == 0 for b in bodies)
    assert _count(db_url, "select count(*) from acceptances") == 60
    assert _count(db_url, "select count(*) from event_store where stream_type = 'acceptance'") == 60
    assert len(_published(db_url, "DeliveryAccepted")) == 60


def test_a_line_for_a_contract_not_yet_received_can_be_pushed_again_once_it_arrives(client: TestClient, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    assert _push(client, his, _line("RK-1", contract_id="C4")).json()["results"][0]["status"] == "rejected"
    assert _deliver(client, _contract("C4", "H1", "D1", "1.0000")) == "handled"
    assert _push(client, his, _line("RK-1", contract_id="C4")).json()["results"][0]["status"] == "accepted"


def test_a_hospital_cannot_push_for_another_institution(client: TestClient, db_url: str, token: Auth) -> None:
    r = _push(client, token("H2", Role.INSTITUTION), _line("RK-1"))
    assert r.status_code == 403 and r.json()["type"] == "urn:jicai:problem:forbidden"
    assert _push(client, token("D1", Role.DISTRIBUTOR), _line("RK-1")).status_code == 403
    assert _push(client, token("OPS", Role.OPERATOR), _line("RK-1")).json()["accepted"] == 1
    assert _count(db_url, "select count(*) from acceptances") == 1


def test_without_a_valid_token_nothing_is_pushed(client: TestClient, db_url: str) -> None:
    r = _push(client, {}, _line("RK-1"))
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
    assert _push(client, {"Authorization": "Bearer forged"}, _line("RK-1")).status_code == 401
    assert _count(db_url, "select count(*) from event_store") == 3  # the three seeded contracts


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([_line("RK-1"), _line("RK-2", accepted_quantity=-1)], "lines[1].accepted_quantity"),
        ([_line("RK-1"), _line("RK-2", accepted_on="2026-02-30")], "lines[1].accepted_on"),
        ([_line("RK-1", rejected_quantity=2)], "lines[0].rejection_reason"),
        ([_line("RK-1"), _line("RK-1")], "lines[1].external_id"),
        ([_line("RK:1")], "lines[0].external_id"),
        ([{**_line("RK-1"), "price": "1.00"}], "lines[0].price"),
        ([], "lines"),
        ([_line(f"RK-{i}") for i in range(1001)], "lines"),
    ],
)
def test_invalid_input_is_refused_whole_naming_the_field(
    client: TestClient, db_url: str, token: Auth, lines: list[dict[str, Any]], field: str
) -> None:
    r = _push(client, token("H1", Role.INSTITUTION), *lines)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in r.json()["errors"]}
    assert _count(db_url, "select count(*) from acceptances") == 0
    assert _count(db_url, "select count(*) from outbox") == 0


# --- invoices ------------------------------------------------------------------------------------------------------


def _accept_for_invoicing(client: TestClient, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    r = _push(
        client, his,
        _line("A1", accepted_quantity=10),
        _line("A2", contract_id="C3", accepted_quantity=4),
        _line("A3", accepted_quantity=6, accepted_on="2026-03-09"),
    )
    assert r.json()["accepted"] == 3


def _invoice(**changes: Any) -> dict[str, Any]:
    # 3 × 2.005 = 6.015 → 6.02 and 6 × 2.005 = 12.03: 18.05
    return {"invoice_id": "INV-1", "invoice_number": "No.00012345", "distributor_id": "D1", "institution_id": "H1",
            "issued_on": "2026-03-10", "received_on": "2026-03-12", "amount": "18.05",
            "lines": [{"acceptance_id": "H1:A1", "quantity": 3}, {"acceptance_id": "H1:A3", "quantity": 6}], **changes}


def test_a_matching_invoice_is_recorded_once_and_published_with_its_lines(client: TestClient, db_url: str, token: Auth) -> None:
    _accept_for_invoicing(client, token)
    d1 = token("D1", Role.DISTRIBUTOR)
    first = client.post("/invoices", json=_invoice(), headers=d1)
    again = client.post("/invoices", json=_invoice(), headers=d1)
    assert (first.status_code, first.json()) == (201, {"id": "INV-1", "created": True})
    assert (again.status_code, again.json()["created"]) == (200, False)
    changed = client.post("/invoices", json=_invoice(invoice_number="No.9"), headers=d1)
    assert changed.status_code == 409

    got = client.get("/invoices/INV-1", headers=d1).json()
    assert (got["amount"], got["latest_acceptance_on"], got["pooling_region_code"]) == ("18.05", "2026-03-09", "520100")
    assert [(x["line_no"], x["acceptance_id"], x["quantity"], x["unit_price"], x["amount"]) for x in got["lines"]] == [
        (1, "H1:A1", 3, "2.0050", "6.02"), (2, "H1:A3", 6, "2.0050", "12.03"),
    ]
    assert client.get("/acceptances/H1:A1", headers=d1).json()["invoiced_quantity"] == 3
    [published] = _published(db_url, "InvoiceReceived")
    data = published["data"]
    assert (data["invoice_id"], data["amount"], data["received_on"]) == ("INV-1", "18.05", "2026-03-12")
    assert (data["latest_acceptance_on"], data["pooling_region_code"], data["distributor_id"]) == ("2026-03-09", "520100", "D1")
    assert [(x["acceptance_id"], x["contract_id"], x["amount"], x["accepted_on"]) for x in data["lines"]] == [
        ("H1:A1", "C1", "6.02", "2026-03-02"), ("H1:A3", "C1", "12.03", "2026-03-09"),
    ]
    listed = client.get("/institutions/H1/invoices", headers=token("H1", Role.INSTITUTION)).json()
    assert [i["invoice_id"] for i in listed] == ["INV-1"]


def test_an_invoice_amount_that_does_not_match_shows_the_expected_amount_and_the_difference(
    client: TestClient, db_url: str, token: Auth
) -> None:
    _accept_for_invoicing(client, token)
    r = client.post("/invoices", json=_invoice(amount="18.00"), headers=token("D1", Role.DISTRIBUTOR))
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert (problem["expected_amount"], problem["difference"]) == ("18.05", "-0.05")
    assert problem["errors"][0]["field"] == "amount"
    assert client.get("/invoices/INV-1", headers=token("OPS", Role.OPERATOR)).status_code == 404
    assert _published(db_url, "InvoiceReceived") == []


def test_over_invoicing_an_acceptance_is_refused(client: TestClient, token: Auth) -> None:
    _accept_for_invoicing(client, token)
    d1 = token("D1", Role.DISTRIBUTOR)
    assert client.post("/invoices", json=_invoice(), headers=d1).status_code == 201  # bills 3 of H1:A1's 10
    too_much = _invoice(invoice_id="INV-2", lines=[{"acceptance_id": "H1:A1", "quantity": 8}], amount="16.04")
    r = client.post("/invoices", json=too_much, headers=d1)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "lines[0].quantity" and "7 of 10" in r.json()["detail"]
    rest = _invoice(invoice_id="INV-2", lines=[{"acceptance_id": "H1:A1", "quantity": 7}], amount="14.04")
    assert client.post("/invoices", json=rest, headers=d1).status_code == 201
    assert client.get("/acceptances/H1:A1", headers=d1).json()["invoiced_quantity"] == 10


def test_two_invoices_racing_for_the_same_units_cannot_both_win(client: TestClient, db_url: str, token: Auth) -> None:
    _accept_for_invoicing(client, token)
    d1 = token("D1", Role.DISTRIBUTOR)
    six = [{"acceptance_id": "H1:A1", "quantity": 6}]
    bodies = [_invoice(invoice_id=f"INV-{n}", lines=six, amount="12.03") for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(r.status_code for r in pool.map(lambda b: client.post("/invoices", json=b, headers=d1), bodies))
    assert statuses == [201, 422, 422, 422]
    assert _count(db_url, "select invoiced_quantity from acceptances where acceptance_id = 'H1:A1'") == 6


def test_a_distributor_cannot_invoice_another_distributors_deliveries(client: TestClient, db_url: str, token: Auth) -> None:
    _accept_for_invoicing(client, token)
    d1 = token("D1", Role.DISTRIBUTOR)
    theirs = _invoice(lines=[{"acceptance_id": "H1:A2", "quantity": 1}], amount="12.35")
    r = client.post("/invoices", json=theirs, headers=d1)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "lines[0].acceptance_id"
    r = client.post("/invoices", json={**theirs, "distributor_id": "D2"}, headers=d1)
    assert r.status_code == 403
    assert client.post("/invoices", json=_invoice(), headers=token("H1", Role.INSTITUTION)).status_code == 403
    by_d2 = client.post("/invoices", json={**theirs, "distributor_id": "D2"}, headers=token("D2", Role.DISTRIBUTOR))
    assert by_d2.status_code == 201
    assert _count(db_url, "select count(*) from invoices") == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"received_on": "2026-03-09"}, "received_on"),
        ({"lines": [{"acceptance_id": "H1:A1", "quantity": 0}]}, "lines[0].quantity"),
        ({"lines": [{"acceptance_id": "H1:A1", "quantity": 1}, {"acceptance_id": "H1:NOPE", "quantity": 1}], "amount": "2.01"},
         "lines[1].acceptance_id"),
        ({"institution_id": "H2", "lines": [{"acceptance_id": "H1:A1", "quantity": 1}], "amount": "2.01"},
         "lines[0].acceptance_id"),
        ({"amount": "18.051"}, "amount"),
    ],
)
def test_an_invalid_invoice_names_the_field(client: TestClient, token: Auth, changes: dict[str, Any], field: str) -> None:
    _accept_for_invoicing(client, token)
    r = client.post("/invoices", json=_invoice(**changes), headers=token("D1", Role.DISTRIBUTOR))
    assert r.status_code == 422
    assert field in {e["field"] for e in r.json()["errors"]}


# --- reads ---------------------------------------------------------------------------------------------------------


def test_each_party_reads_only_its_own_records(client: TestClient, token: Auth) -> None:
    _accept_for_invoicing(client, token)
    assert client.get("/acceptances/H1:A1", headers=token("H2", Role.INSTITUTION)).status_code == 403
    assert client.get("/acceptances/H1:A2", headers=token("D1", Role.DISTRIBUTOR)).status_code == 403
    assert client.get("/acceptances/H1:A1").status_code == 401
    assert client.get("/institutions/H1/acceptances", headers=token("H2", Role.INSTITUTION)).status_code == 403
    mine = client.get("/institutions/H1/acceptances", headers=token("D2", Role.DISTRIBUTOR)).json()
    assert [a["acceptance_id"] for a in mine] == ["H1:A2"]
    everything = client.get("/institutions/H1/acceptances", headers=token("H1", Role.INSTITUTION)).json()
    assert [a["acceptance_id"] for a in everything] == ["H1:A1", "H1:A2", "H1:A3"]  # by acceptance date, then id
    page = client.get("/institutions/H1/acceptances", params={"limit": 1, "offset": 1}, headers=token("FUND", Role.FUND)).json()
    assert [a["acceptance_id"] for a in page] == ["H1:A2"]


# --- consumed events -----------------------------------------------------------------------------------------------


def test_contract_signed_delivered_twice_is_processed_once(client: TestClient, db_url: str) -> None:
    c5 = _contract("C5", "H1", "D1", "3.0000")
    assert _deliver(client, c5, event_id="evt-c5") == "handled"
    assert _deliver(client, c5, event_id="evt-c5") == "duplicate"
    assert _deliver(client, c5, event_id="evt-c5-resent-by-contracts") == "handled"  # same fact, new envelope: nothing new
    assert _count(db_url, "select count(*) from contracts where contract_id = 'C5'") == 1
    assert _count(db_url, "select count(*) from event_store where stream_id = 'contract-C5'") == 1
    assert _count(db_url, "select count(*) from processed_events where consumer = 'orders.contracts'") == 3 + 2
    assert _count(db_url, "select count(*) from outbox") == 0  # orders does not republish the contracts service's facts


def test_overlapping_pushes_in_opposite_orders_both_succeed(client: TestClient, db_url: str, token: Auth) -> None:
    his = token("H1", Role.INSTITUTION)
    lines = [_line(f"RK-{i:03d}") for i in range(80)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(lambda n: _push(client, his, *(lines if n % 2 else lines[::-1])), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    assert sum(r.json()["accepted"] for r in responses) == 80
    assert _count(db_url, "select count(*) from acceptances") == 80


def test_read_models_rebuild_from_the_event_store(client: TestClient, token: Auth) -> None:
    from jicai_orders.adapters.repository import streams
    from jicai_orders.adapters.tables import READ_MODELS

    _accept_for_invoicing(client, token)
    assert client.post("/invoices", json=_invoice(), headers=token("D1", Role.DISTRIBUTOR)).status_code == 201
    ops = token("OPS", Role.OPERATOR)
    before = (client.get("/institutions/H1/acceptances", headers=ops).json(), client.get("/invoices/INV-1", headers=ops).json())
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def rebuild() -> int:
        async with runtime.unit_of_work() as uow:
            return int(await streams.rebuild(uow, READ_MODELS))

    assert client.portal is not None
    assert client.portal.call(rebuild) == 3 + 3 + 1  # contracts, acceptances, invoice
    after = (client.get("/institutions/H1/acceptances", headers=ops).json(), client.get("/invoices/INV-1", headers=ops).json())
    assert after == before and after[0][0]["invoiced_quantity"] == 3
