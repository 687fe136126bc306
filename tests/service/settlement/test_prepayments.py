"""Prepayments (医保预付, R5) through the API on real PostgreSQL; contract facts delivered through the real consumer path.

H1 (Hubei, 武汉 420100) signs contract C1 on 2026-01-20 for 2026-02-01..2027-01-31: 10,000 boxes at 12.50 → budget 125,000.00.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_events.catalog import (
    ContractCycleExtended,
    ContractSigned,
    DeliveryAccepted,
    InvoiceCredited,
    RegionProfileAssigned,
    YearlyAgreementAmended,
    YearlyAgreementSigned,
)
from jicai_events.envelope import Envelope
from jicai_kit.auth import Role
from jicai_kit.runtime import PolicyNotFolded
from jicai_settlement.bootstrap import CONTRACTS_FACTS, INVOICES
from tests.service.settlement.support import count, deliver, field, invoice, rows

Auth = Any


def _sign(client: TestClient, region: str = "420100", institution: str = "H1", contract: str = "C1") -> None:
    signed = ContractSigned(
        contract_id=contract, institution_id=institution, pooling_region_code=region, manufacturer_id="M1", distributor_id="D1",
        product_id="P1", unit_price=Decimal("12.5000"), agreed_quantity=10_000, cycle_start=date(2026, 2, 1),
        cycle_end=date(2027, 1, 31), signed_on=date(2026, 1, 20),
    )
    agreement = YearlyAgreementSigned(
        agreement_id=f"{contract}-y1", contract_id=contract, institution_id=institution, pooling_region_code=region,
        product_id="P1", agreement_year=1, year_start=date(2026, 2, 1), year_end=date(2027, 1, 31), agreed_quantity=10_000,
        unit_price=Decimal("12.5000"), signed_on=date(2026, 1, 20),
    )
    assert deliver(client, CONTRACTS_FACTS, signed) == "handled"
    assert deliver(client, CONTRACTS_FACTS, agreement) == "handled"


def _accepted(acceptance_id: str, quantity: int, on: date) -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=acceptance_id, external_id=f"HIS-{acceptance_id}", institution_id="H1", pooling_region_code="420100",
        contract_id="C1", product_id="P1", distributor_id="D1", accepted_quantity=quantity, rejected_quantity=0,
        accepted_on=on, lot_number="LOT-1", unit_price=Decimal("12.5000"), accepted_amount=Decimal(quantity) * Decimal("12.50"),
    )


def _schedule(client: TestClient, headers: dict[str, str], as_of: str, year: int = 2026, **params: str) -> Any:
    r = client.get(f"/institutions/H1/prepayments/{year}", params={"as_of": as_of, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _disburse(disbursement_id: str, phase: int, amount: str, on: str, **extra: Any) -> dict[str, Any]:
    return {"disbursement_id": disbursement_id, "institution_id": "H1", "year": 2026, "phase": phase, "amount": amount,
            "disbursed_on": on, **extra}


def _phases(schedule: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(i["phase"], i["minimum_amount"], i["due_on"], i["due"], i["disbursed"], i["shortfall"]) for i in schedule["instalments"]]


def test_hubei_phase_1_on_signing_phase_2_on_60_percent_of_the_volume(
    client: TestClient, db_url: str, h1: dict[str, str], fund: dict[str, str]
) -> None:
    """Hubei 003 §四(三): 首期合同签订后≥30%; 第二期采购周期执行半年或采购量达到约定采购量的60%后; 两期≥90%."""
    _sign(client)
    schedule = _schedule(client, h1, "2026-01-25")
    assert (schedule["profile_id"], schedule["procurement_budget"], schedule["earmarked"]) == ("hubei-2019", "125000.00", True)
    assert _phases(schedule) == [(1, "37500.00", "2026-01-20", True, "0.00", "37500.00"),
                                 (2, "75000.00", "2026-08-02", False, "0.00", "0.00")]
    assert count(db_url, "select count(*) from outbox where convert_from(payload, 'UTF8') like '%PrepaymentScheduled%'") == 1

    early = client.post("/prepayment-disbursements", json=_disburse("D-2", 2, "75000.00", "2026-05-04"), headers=fund)
    assert field(early) == "disbursed_on" and "due on 2026-08-02" in early.json()["detail"]
    below = client.post("/prepayment-disbursements", json=_disburse("D-1a", 1, "20000.00", "2026-01-26"), headers=fund)
    assert field(below) == "amount" and "partial" in below.json()["detail"]
    part = _disburse("D-1a", 1, "20000.00", "2026-01-26", partial=True)
    assert client.post("/prepayment-disbursements", json=part, headers=fund).status_code == 201
    assert client.post("/prepayment-disbursements", json=part, headers=fund).json() == {"id": "D-1a", "created": False}
    assert client.post("/prepayment-disbursements", json={**part, "amount": "1.00"}, headers=fund).status_code == 409
    assert _phases(_schedule(client, h1, "2026-01-26"))[0] == (1, "37500.00", "2026-01-20", True, "20000.00", "17500.00")

    for i, (quantity, on) in enumerate([(3_000, date(2026, 3, 2)), (3_000, date(2026, 6, 1))]):
        assert deliver(client, INVOICES, _accepted(f"A{i}", quantity, on)) == "handled"
    [_, phase_2] = _schedule(client, h1, "2026-06-01")["instalments"]
    assert (phase_2["due"], phase_2["due_by"]) == (True, "agreed_volume_share_reached on 2026-06-01")
    r = client.post("/prepayment-disbursements", json=_disburse("D-2", 2, "75000.00", "2026-06-03"), headers=fund)
    assert r.status_code == 201, r.text
    schedule = _schedule(client, h1, "2026-06-03")
    assert schedule["disbursed"] == "95000.00" and [d["disbursement_id"] for d in schedule["disbursements"]] == ["D-1a", "D-2"]
    published = rows(db_url, "select message_key from outbox where convert_from(payload, 'UTF8') like '%PrepaymentDisbursed%'")
    assert [r.message_key for r in published] == ["H1", "H1"]


def test_an_amended_volume_reschedules_and_an_extension_moves_the_liquidation(
    client: TestClient, db_url: str, h1: dict[str, str], fund: dict[str, str]
) -> None:
    """Hubei 003 §四(三): 医疗机构应及时…进行清算，按规定向医保经办机构归还预付款."""
    _sign(client)
    amended = YearlyAgreementAmended(
        agreement_id="C1-y1", contract_id="C1", institution_id="H1", pooling_region_code="420100", product_id="P1",
        agreed_quantity=8_000, previous_agreed_quantity=10_000, amended_on=date(2026, 4, 1), reason="reallocated",
    )
    assert deliver(client, CONTRACTS_FACTS, amended) == "handled"
    assert deliver(client, CONTRACTS_FACTS, amended) == "handled"  # republished: nothing changes
    schedule = _schedule(client, h1, "2026-04-01")
    assert (schedule["procurement_budget"], _phases(schedule)[0][1]) == ("100000.00", "30000.00")
    assert count(db_url, "select count(*) from outbox where convert_from(payload, 'UTF8') like '%PrepaymentScheduled%'") == 2
    client.post("/prepayment-disbursements", json=_disburse("D-1", 1, "30000.00", "2026-04-02"), headers=fund)

    invoice(client, "INV-1", "25000.00", region="420100", received_on=date(2026, 5, 10))
    invoice(client, "INV-2", "10000.00", region="420100", received_on=date(2026, 9, 10))
    credit = InvoiceCredited(
        credit_note_id="CN-1", credit_note_number="No.CN-1", invoice_id="INV-2", institution_id="H1", pooling_region_code="420100",
        distributor_id="D1", amount=Decimal("2000.00"), invoice_amount_after=Decimal("8000.00"), received_on=date(2026, 9, 20),
        reason="price",
    )
    deliver(client, INVOICES, credit)
    extended = ContractCycleExtended(
        contract_id="C1", institution_id="H1", pooling_region_code="420100", previous_cycle_end=date(2027, 1, 31),
        cycle_end=date(2028, 1, 31), extended_on=date(2026, 12, 1), reason="延长一年",
    )
    assert deliver(client, CONTRACTS_FACTS, extended) == "handled"
    liquidation = {"liquidation_id": "L-1", "institution_id": "H1", "year": 2026, "liquidated_on": "2027-02-01"}
    too_early = client.post("/prepayment-liquidations", json=liquidation, headers=fund)
    assert field(too_early) == "liquidated_on" and "2028-01-31" in too_early.json()["detail"]
    at_end = {**liquidation, "liquidated_on": "2028-01-31"}
    assert client.post("/prepayment-liquidations", json=at_end, headers=fund).status_code == 201
    assert client.post("/prepayment-liquidations", json=at_end, headers=fund).status_code == 200
    assert client.post("/prepayment-liquidations", json={**at_end, "liquidation_id": "L-2"}, headers=fund).status_code == 409
    done = _schedule(client, h1, "2028-01-31")["liquidation"]
    assert (done["prepaid"], done["invoiced"], done["outcome"], done["amount"]) == ("30000.00", "33000.00", "top_up", "3000.00")
    assert count(db_url, "select count(*) from outbox where convert_from(payload, 'UTF8') like '%PrepaymentLiquidated%'") == 1
    late = client.post("/prepayment-disbursements", json=_disburse("D-9", 1, "1.00", "2028-02-01"), headers=fund)
    assert field(late) == "year" and "liquidated" in late.json()["detail"]


def test_guizhou_uses_last_years_monthly_settlements_unless_the_fund_states_the_average(
    client: TestClient, h1: dict[str, str], fund: dict[str, str]
) -> None:
    """Guizhou 000 §五(三): 每年1月按上年度月均拨付的30%预付，且不低于采购金额的30%."""
    _sign(client, region="520100")  # settlement knows H1 from its contract
    for month, amount in [("2025-11", "400000.00"), ("2025-12", "600000.00"), ("2026-01", "900000.00")]:
        body = {"settlement_id": f"MS-{month}", "institution_id": "H1", "month": month, "amount": amount}
        assert client.post("/monthly-settlements", json=body, headers=fund).status_code == 201
    [instalment] = _schedule(client, h1, "2026-01-20")["instalments"]
    assert (instalment["minimum_amount"], instalment["due_by"]) == ("150000.00", "annual on 2026-01-20")
    assert "2 monthly settlements" in instalment["basis"]
    [stated] = _schedule(client, h1, "2026-01-20", last_year_average_monthly_fund_payment="200000.00")["instalments"]
    assert stated["minimum_amount"] == "60000.00" and "as stated by the fund" in stated["basis"]
    body = _disburse("D-1", 1, "60000.00", "2026-01-21", last_year_average_monthly_fund_payment="200000.00")
    assert client.post("/prepayment-disbursements", json=body, headers=fund).status_code == 201
    [after] = _schedule(client, h1, "2026-01-21")["instalments"]
    assert (after["minimum_amount"], after["shortfall"]) == ("60000.00", "0.00")  # the stated amount is kept


@pytest.mark.parametrize("region", ["370100", "500099"])
def test_a_region_whose_profile_has_no_prepayment_is_refused_clearly(
    client: TestClient, h1: dict[str, str], fund: dict[str, str], region: str
) -> None:
    _sign(client, region=region)
    r = client.get("/institutions/H1/prepayments/2026", headers=h1)
    assert field(r) == "institution_id" and "has no prepayment" in r.json()["detail"]
    assert field(client.post("/prepayment-disbursements", json=_disburse("D-1", 1, "1.00", "2026-02-01"), headers=fund)) == "institution_id"


def test_bad_input_unknown_schedules_and_other_parties_are_refused(
    client: TestClient, h1: dict[str, str], fund: dict[str, str], token: Auth
) -> None:
    _sign(client)
    assert client.get("/institutions/H1/prepayments/2027", headers=h1).status_code == 404
    assert field(client.post("/prepayment-disbursements", json=_disburse("D-1", 0, "1.00", "2026-02-01"), headers=fund)) == "phase"
    assert field(client.post("/prepayment-disbursements", json=_disburse("D-1", 3, "1.00", "2026-02-01"), headers=fund)) == "phase"
    assert field(client.post("/prepayment-disbursements", json=_disburse("D-1", 1, "0.00", "2026-02-01"), headers=fund)) == "amount"
    missing = {**_disburse("D-1", 1, "1.00", "2026-02-01"), "year": 2027}
    assert field(client.post("/prepayment-disbursements", json=missing, headers=fund)) == "year"
    assert client.post("/prepayment-disbursements", json=_disburse("D-1", 1, "37500.00", "2026-02-01"), headers=h1).status_code == 403
    assert client.get("/institutions/H1/prepayments/2026", headers=token("H2", Role.INSTITUTION)).status_code == 403


def test_an_institution_is_not_known_through_another_whose_id_extends_its_own(client: TestClient, fund: dict[str, str]) -> None:
    """H1-2's agreement makes H1-2 known to settlement, not H1 (whose prepayment stream ids share a prefix)."""
    _sign(client, institution="H1-2", contract="C12")
    refused = client.post("/prepayment-disbursements", json=_disburse("D-1", 1, "1.00", "2026-02-01"), headers=fund)
    assert field(refused) == "institution_id" and "unknown institution H1:" in refused.json()["detail"]
    known = client.post("/prepayment-disbursements", json={**_disburse("D-2", 1, "37500.00", "2026-02-01"), "institution_id": "H1-2"}, headers=fund)
    assert known.status_code == 201, known.text


def test_prepayments_credits_and_direct_settlements_come_back_identical_after_a_rebuild(
    client: TestClient, db_url: str, h1: dict[str, str], fund: dict[str, str]
) -> None:
    from jicai_settlement.adapters.repository import streams
    from jicai_settlement.adapters.tables import READ_MODELS

    _sign(client)
    client.post("/prepayment-disbursements", json=_disburse("D-1", 1, "37500.00", "2026-01-26"), headers=fund)
    invoice(client, "INV-1", "500.00", region="420100")
    deliver(client, INVOICES, InvoiceCredited(
        credit_note_id="CN-1", credit_note_number="No.CN-1", invoice_id="INV-1", institution_id="H1", pooling_region_code="420100",
        distributor_id="D1", amount=Decimal("100.00"), invoice_amount_after=Decimal("400.00"), received_on=date(2026, 3, 10),
        reason="price",
    ))
    direct = {"payment_id": "DS-1", "institution_id": "H1", "distributor_id": "D1", "paid_on": "2026-05-20", "amount": "400.00",
              "allocations": [{"invoice_id": "INV-1", "amount": "400.00"}]}
    assert client.post("/direct-settlements", json=direct, headers=fund).status_code == 201
    client.post("/monthly-settlements", json={"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05",
                                              "amount": "9000.00"}, headers=fund)
    reads = ["/institutions/H1/prepayments/2026?as_of=2026-06-01", "/invoices/INV-1", "/institutions/H1/monthly-settlements",
             "/institutions/H1/direct-settlements", "/payments/DS-1"]
    before = [client.get(path, headers=h1).json() for path in reads]
    tables = ["prepayment_schedules", "prepayment_agreements", "prepayment_disbursements", "invoice_credits"]
    snapshot = [rows(db_url, f"select * from {table} order by 1") for table in tables]
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def rebuild() -> int:
        async with runtime.unit_of_work() as uow:
            return await streams.rebuild(uow, READ_MODELS)

    assert client.portal.call(rebuild) > 0  # type: ignore[union-attr]
    assert [client.get(path, headers=h1).json() for path in reads] == before
    assert [rows(db_url, f"select * from {table} order by 1") for table in tables] == snapshot


def test_the_fund_lists_every_schedule_of_the_year_and_what_is_still_to_disburse(
    client: TestClient, h1: dict[str, str], fund: dict[str, str]
) -> None:
    """The fund's worklist: Hubei (武汉) and Chongqing schedules of 2026; Shandong (济南) has no prepayment (001 sets none)."""
    _sign(client)
    _sign(client, region="500000", institution="H2", contract="C2")
    _sign(client, region="370100", institution="H3", contract="C3")
    listed = client.get("/prepayments", params={"year": 2026, "as_of": "2026-03-01"}, headers=fund)
    assert listed.status_code == 200, listed.text
    assert [(x["institution_id"], x["profile_id"]) for x in listed.json()] == [("H1", "hubei-2019"), ("H2", "chongqing-2019")]
    only_wuhan = client.get("/prepayments", params={"year": 2026, "pooling_region_code": "420100"}, headers=fund).json()
    assert [x["institution_id"] for x in only_wuhan] == ["H1"]

    assert client.post("/prepayment-disbursements", json=_disburse("D-1", 1, "37500.00", "2026-02-02"), headers=fund).status_code == 201
    owed = client.get("/prepayments", params={"year": 2026, "as_of": "2026-03-01", "shortfall_only": "true"}, headers=fund).json()
    assert [x["institution_id"] for x in owed] == ["H2"]
    assert client.get("/prepayments", params={"year": 2026}, headers=h1).status_code == 403
    assert client.get("/prepayments", params={"year": 2026}, headers=fund).json() != []
    assert client.get("/prepayments", params={"year": 2025}, headers=fund).json() == []


def test_an_agreement_of_a_region_not_folded_yet_waits_for_the_assignment_and_is_never_dead_lettered(
    client: TestClient, h1: dict[str, str], token: Auth
) -> None:
    """Contracts accepted the agreement at its door, so a region this service has no profile for means its policy book
    is behind the writer's: the fact is retried until the assignment is folded (as alerts does), not dead-lettered."""
    beijing = RegionProfileAssigned(region_code="110100", region_name="北京市", profile_id="hubei-2019", version=1,
                                    effective_from=date(2026, 1, 1), source="test assignment", assigned_by="OPS")
    signed = ContractSigned(
        contract_id="C-BJ", institution_id="H1", pooling_region_code="110100", manufacturer_id="M1", distributor_id="D1",
        product_id="P1", unit_price=Decimal("12.5000"), agreed_quantity=10_000, cycle_start=date(2026, 2, 1),
        cycle_end=date(2027, 1, 31), signed_on=date(2026, 1, 20),
    )
    agreement = Envelope.wrap(YearlyAgreementSigned(
        agreement_id="C-BJ-y1", contract_id="C-BJ", institution_id="H1", pooling_region_code="110100", product_id="P1",
        agreement_year=1, year_start=date(2026, 2, 1), year_end=date(2027, 1, 31), agreed_quantity=10_000,
        unit_price=Decimal("12.5000"), signed_on=date(2026, 1, 20),
    ), time=datetime.now(UTC))
    assert deliver(client, CONTRACTS_FACTS, signed) == "handled"
    with pytest.raises(PolicyNotFolded, match="110100.*policy book is behind"):
        deliver(client, CONTRACTS_FACTS, agreement)
    ops = token("OPS", Role.OPERATOR)
    assert client.get("/dead-letters", headers=ops).json()["total"] == 0, "not the fact's fault: never a dead letter"

    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    assert deliver(client, runtime.policy_consumer[0], beijing) == "handled"
    assert deliver(client, CONTRACTS_FACTS, agreement) == "handled"
    schedule = _schedule(client, h1, "2026-02-01")  # Hubei's prepayment, as in region 420100
    assert (schedule["profile_id"], schedule["procurement_budget"]) == ("hubei-2019", "125000.00")
