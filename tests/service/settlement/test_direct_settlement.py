"""Direct settlement (直接结算): the fund pays a distributor for an institution's invoices, deducted from its monthly settlement.

Shandong 001 §五 (加快推进…医保基金与医药企业直接结算药款) and Hubei 003 §四(三) allow it; Chongqing 004 §二(七) only
explores it later (探索试点), Guizhou's notice does not provide it.
"""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.service.settlement.support import count, field, invoice


def _direct(payment_id: str, amount: str, invoice_id: str = "INV-1", paid_on: str = "2026-05-20") -> dict[str, Any]:
    return {"payment_id": payment_id, "institution_id": "H1", "distributor_id": "D1", "paid_on": paid_on, "amount": amount,
            "allocations": [{"invoice_id": invoice_id, "amount": amount}], "reference": "FUND-TX-1"}


def _report(client: TestClient, fund: dict[str, str], month: str, amount: str) -> None:
    body = {"settlement_id": f"MS-{month}", "institution_id": "H1", "month": month, "amount": amount}
    assert client.post("/monthly-settlements", json=body, headers=fund).status_code == 201


@pytest.mark.parametrize("region", ["370100", "420100"])  # Shandong 001 §五, Hubei 003 §四(三)
def test_the_fund_pays_the_distributor_and_the_months_settlement_shows_the_deduction(
    client: TestClient, db_url: str, h1: dict[str, str], fund: dict[str, str], region: str
) -> None:
    invoice(client, "INV-1", "1000.00", region=region)
    invoice(client, "INV-2", "500.00", region=region)
    _report(client, fund, "2026-04", "90000.00")
    first = client.post("/direct-settlements", json=_direct("DS-1", "600.00"), headers=fund)
    assert (first.status_code, first.json()) == (201, {"id": "DS-1", "created": True})
    again = client.post("/direct-settlements", json=_direct("DS-1", "600.00"), headers=fund)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert client.post("/direct-settlements", json=_direct("DS-2", "500.00", "INV-2", "2026-05-28"), headers=fund).status_code == 201
    _report(client, fund, "2026-05", "120000.00")  # reported after the direct settlements: deducted all the same

    paid = client.get("/invoices/INV-1", headers=h1).json()
    assert (paid["paid"], paid["outstanding"]) == ("600.00", "400.00")
    assert client.get("/payments/DS-1", headers=h1).json()["payer"] == "insurance_fund"
    months = {m["month"]: m for m in client.get("/institutions/H1/monthly-settlements", headers=h1).json()}
    assert (months["2026-05"]["amount"], months["2026-05"]["direct_settlement_deductions"], months["2026-05"]["net_paid"]) == (
        "120000.00", "1100.00", "118900.00")
    assert (months["2026-04"]["direct_settlement_deductions"], months["2026-04"]["net_paid"]) == ("0.00", "90000.00")
    listed = client.get("/institutions/H1/direct-settlements", headers=h1).json()
    assert [(d["payment_id"], d["month"], d["amount"]) for d in listed] == [("DS-1", "2026-05", "600.00"), ("DS-2", "2026-05", "500.00")]
    sql = "select count(*) from outbox where convert_from(payload, 'UTF8') like '%PaymentRecorded%insurance_fund%'"
    assert count(db_url, sql) == 2
    assert field(client.post("/direct-settlements", json=_direct("DS-3", "400.01"), headers=fund)) == "allocations[0].amount"


@pytest.mark.parametrize(("region", "why"), [
    ("500000", "stage exploratory"),  # Chongqing 004 §二(七): 条件成熟时探索试点
    ("520100", "has no direct settlement section"),  # Guizhou 000
])
def test_direct_settlement_is_refused_where_the_profile_does_not_allow_it(
    client: TestClient, db_url: str, h1: dict[str, str], fund: dict[str, str], region: str, why: str
) -> None:
    invoice(client, "INV-1", "1000.00", region=region)
    refused = client.post("/direct-settlements", json=_direct("DS-1", "600.00"), headers=fund)
    assert field(refused) == "allocations[0].invoice_id" and why in refused.json()["detail"]
    assert client.get("/invoices/INV-1", headers=h1).json()["paid"] == "0.00"
    assert count(db_url, "select count(*) from direct_settlement_deductions") == 0


def test_only_the_fund_or_an_operator_settles_directly(client: TestClient, h1: dict[str, str], token: Any) -> None:
    invoice(client, "INV-1", "1000.00", region="370100")
    assert client.post("/direct-settlements", json=_direct("DS-1", "600.00"), headers=h1).status_code == 403
    assert client.post("/direct-settlements", json=_direct("DS-1", "600.00"), headers=token("OPS", Role.OPERATOR)).status_code == 201
