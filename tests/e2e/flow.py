"""The Guizhou payment-breach flow (rules R1, R2), driven through the REST APIs only.

Dates are real 2026 dates: the invoice's 30-day term ends in the National Day
holiday and moves to the first working day after it (Civil Code art. 203);
the 10-working-day grace counts Saturday 2026-10-10, a make-up working day.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from jicai_kit.auth import Role
from tests.e2e.system import System, eventually

INSTITUTION, REGION = "H001", "520100"
CONTRACT = {
    "contract_id": "C001", "institution_id": INSTITUTION, "manufacturer_id": "M001", "distributor_id": "D001",
    "product_id": "P001", "unit_price": "1.98", "agreed_quantity": 12000,
    "cycle_start": "2026-01-01", "cycle_end": "2026-12-31", "signed_on": "2025-12-20",
}
PUSH = {"lines": [
    {"external_id": "HIS-0901-1", "contract_id": "C001", "accepted_quantity": 100, "rejected_quantity": 0,
     "accepted_on": "2026-09-01", "lot_number": "A2608"},
    {"external_id": "HIS-0901-2", "contract_id": "C001", "accepted_quantity": 50, "rejected_quantity": 5,
     "rejection_reason": "外包装破损", "accepted_on": "2026-09-01", "lot_number": "A2608"},
]}
CONTRACT_SETUP: tuple[tuple[str, dict[str, Any]], ...] = (
    ("/institutions", {"institution_id": INSTITUTION, "name": "贵阳市第一人民医院", "pooling_region_code": REGION, "county_code": "520102"}),
    ("/manufacturers", {"party_id": "M001", "name": "某制药股份有限公司"}),
    ("/distributors", {"party_id": "D001", "name": "某医药物流有限公司"}),
    ("/winning-products", {"product_id": "P001", "batch_id": "GJ-VBP-2", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂",
                           "specification": "20mg*7片", "manufacturer_id": "M001", "winning_unit_price": "1.9800", "trading_unit": "盒"}),
    ("/contracts", CONTRACT),
)
"""Parties, winning product and contract C001 (contracts' operator), in the order they must be recorded."""
INVOICE = {
    "invoice_id": "INV-001", "invoice_number": "52260001", "distributor_id": "D001", "institution_id": INSTITUTION,
    "issued_on": "2026-09-04", "received_on": "2026-09-05", "amount": "297.00",
    "lines": [{"acceptance_id": f"{INSTITUTION}:HIS-0901-1", "quantity": 100}, {"acceptance_id": f"{INSTITUTION}:HIS-0901-2", "quantity": 50}],
}
DEADLINE = "2026-10-08"  # 09-05 + 30 days = 10-05, inside National Day (10-01..10-07)
WARNED_ON = "2026-10-09"  # the first overdue day
WITHHELD_FROM = "2026-10-23"  # after 10 working days: 10-10 (调休 Sat), 10-12..16, 10-19..22


@dataclass
class Hooks:
    """Chaos to inject between steps (kill a service, repeat a push, ...)."""

    after: dict[str, Callable[[System], object]] = field(default_factory=dict)

    def run(self, step: str, system: System) -> None:
        if step in self.after:
            self.after[step](system)


def run_flow(system: System, hooks: Hooks | None = None) -> dict[str, Any]:
    """Run contract → acceptance → invoice → days pass → warning → withheld → payment → released."""
    with ExitStack() as clients:
        def client(service: str, party: str, role: Role) -> httpx.Client:
            return clients.enter_context(system.client(service, party, role))

        return _run_flow(system, hooks or Hooks(), client)


def _run_flow(system: System, hooks: Hooks, client: Callable[[str, str, Role], httpx.Client]) -> dict[str, Any]:
    ops = client("contracts", "OPS", Role.OPERATOR)
    his = client("orders", INSTITUTION, Role.INSTITUTION)
    distributor = client("orders", "D001", Role.DISTRIBUTOR)
    hospital_cashier = client("settlement", INSTITUTION, Role.INSTITUTION)
    fund = client("settlement", "FUND-520100", Role.FUND)
    alerts = client("alerts", "OPS", Role.OPERATOR)
    settlement = client("settlement", "OPS", Role.OPERATOR)

    # 1. contracts: parties, winning product, contract → ContractSigned
    for path, body in CONTRACT_SETUP:
        r = ops.post(path, json=body)
        assert r.status_code in (200, 201), r.text
    hooks.run("contract", system)

    # 2. orders: the HIS pushes acceptances once orders has received the contract
    def pushed() -> dict[str, Any] | None:
        r = his.post(f"/institutions/{INSTITUTION}/acceptances:batch", json=PUSH)
        assert r.status_code == 200, r.text
        body = r.json()
        return body if all(x["status"] in ("accepted", "duplicate") for x in body["results"]) else None

    first_push = eventually(pushed, what="orders to know contract C001")
    hooks.run("acceptance", system)
    r = distributor.post("/invoices", json=INVOICE)
    assert r.status_code in (200, 201), r.text
    hooks.run("invoice", system)

    # 3. alerts computes the deadline; settlement learns the invoice
    eventually(lambda: alerts.get("/invoices/INV-001").json()["deadline"] == DEADLINE, what="deadline in alerts")
    eventually(lambda: settlement.get("/invoices/INV-001").status_code == 200, what="invoice in settlement")

    # 4. a partial payment before the deadline does not meet it
    r = hospital_cashier.post("/payments", json={
        "payment_id": "PAY-001", "institution_id": INSTITUTION, "distributor_id": "D001", "paid_on": "2026-09-20",
        "amount": "97.00", "allocations": [{"invoice_id": "INV-001", "amount": "97.00"}]})
    assert r.status_code in (200, 201), r.text
    eventually(lambda: alerts.get("/invoices/INV-001").json()["outstanding"] == "200.00", what="partial payment in alerts")
    hooks.run("partial-payment", system)

    # 5. time passes: day closes through October
    system.close_days(date(2026, 9, 1), date(2026, 10, 15))
    hooks.run("first-days", system)
    system.close_days(date(2026, 10, 16), date(2026, 10, 31))
    invoice = eventually(lambda: _if(alerts.get("/invoices/INV-001").json(), lambda j: j["status"] == "withheld"), what="withheld")
    status = eventually(lambda: _if(settlement.get(f"/institutions/{INSTITUTION}/settlement-status").json(),
                                    lambda j: j["status"] == "withheld"), what="settlement withheld")
    r = fund.post("/monthly-settlements", json={"settlement_id": "MS-H001-2026-10", "institution_id": INSTITUTION, "month": "2026-10", "amount": "1250000.00"})
    assert r.status_code in (200, 201), r.text
    withheld_settlements = settlement.get(f"/institutions/{INSTITUTION}/monthly-settlements").json()
    open_alerts = alerts.get(f"/institutions/{INSTITUTION}/alerts").json()
    metrics_while_withheld = {"alerts": system.metrics("alerts"), "settlement": system.metrics("settlement")}
    hooks.run("withheld", system)

    # 6. the institution pays the rest: the withhold is lifted
    r = hospital_cashier.post("/payments", json={
        "payment_id": "PAY-002", "institution_id": INSTITUTION, "distributor_id": "D001", "paid_on": "2026-11-02",
        "amount": "200.00", "allocations": [{"invoice_id": "INV-001", "amount": "200.00"}]})
    assert r.status_code in (200, 201), r.text
    released = eventually(lambda: _if(alerts.get("/invoices/INV-001").json(), lambda j: j["status"] == "released"), what="released")
    final_status = eventually(lambda: _if(settlement.get(f"/institutions/{INSTITUTION}/settlement-status").json(),
                                          lambda j: j["status"] == "normal"), what="settlement normal")
    final_settlements = eventually(lambda: _if(settlement.get(f"/institutions/{INSTITUTION}/monthly-settlements").json(),
                                               lambda j: j and j[0]["status"] == "released"), what="monthly settlement released")

    return {
        "first_push": first_push,
        "invoice_when_withheld": invoice,
        "status_when_withheld": status,
        "monthly_settlements_when_withheld": withheld_settlements,
        "alerts_when_withheld": open_alerts,
        "metrics_when_withheld": metrics_while_withheld,
        "invoice_released": released,
        "final_status": final_status,
        "final_monthly_settlements": final_settlements,
        "final_invoices": alerts.get(f"/institutions/{INSTITUTION}/invoices").json(),
        "final_acceptances": client("orders", "OPS", Role.OPERATOR).get(f"/institutions/{INSTITUTION}/acceptances").json(),
        "final_payments": settlement.get(f"/institutions/{INSTITUTION}/payments").json(),
        "final_alerts": alerts.get(f"/institutions/{INSTITUTION}/alerts", params={"include_closed": "true"}).json(),
    }


def _if(value: Any, check: Callable[[Any], bool]) -> Any:
    return value if check(value) else None
