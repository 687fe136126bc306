"""One agreement year for each of the five regional profiles: 2026, lived day by day from Q3 to the year end.

A single platform serves all five provinces at once, as it would in production:
each profile gets its own institution in one of its pooling regions, and
everything goes through the public REST APIs on real Kafka and PostgreSQL.
Set-up (parties, batch with its cycle, products, contract with its first yearly agreement) happens
first; then every dated action (payments, credit notes, returns, prepayments, amendments, rollovers,
reports, liquidation) is taken on its own business day, after the days before it were closed, from
2026-07-01 to 2026-12-31. The dates are real 2026 dates chosen so that the rules' differences show:

- the Mid-Autumn Festival (Fri 2026-09-25) moves a deadline to Mon 09-28
  (Civil Code art. 203), and Sunday 09-20 is a make-up working day (调休)
  that counts toward Guizhou's 10-working-day grace;
- Guizhou (000 §五(三)) counts from the later of acceptance and invoice,
  warns on the first overdue day and withholds after the grace;
- Hubei (003 §四(三)) counts from acceptance (入库) only and never withholds;
- Liangjiang (002 §三(四)) is due at the end of the month after acceptance;
- Shandong and Chongqing say "on time" only: 30 days from the later date;
- Chongqing and Liangjiang cap non-winning purchases at the winning quantity
  (R4, 004 §二(二), 002 §二(二)) per month, in the generic group's base unit.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from jicai_events.base import IntegrationEvent
from jicai_events.catalog import (
    ContractSigned,
    DeliveryAccepted,
    DeliveryReturned,
    FilingPurchaseRecorded,
    InvoiceCredited,
    ManufacturerReportSubmitted,
    PurchaseRecorded,
    WinningProductListed,
    YearlyAgreementAmended,
    YearlyAgreementRolledOver,
    YearlyAgreementSigned,
)
from jicai_kit.auth import Role
from jicai_policy.book import POLICY_DIR_ENV
from jicai_policy.loading import PACKAGED_PROFILE_DIR
from tests.e2e.system import System, eventually

QUARTER_FIRST_DAY, LAST_CLOSED_DAY = date(2026, 7, 1), date(2026, 12, 31)
GUIZHOU_VOLUME_COMPLETION_FROM = "2026-07-01"


def year_policy(directory: Path) -> dict[str, str]:
    """The packaged profiles, with Guizhou's R3 live from the third quarter (an operator's go-live in regions.toml)."""
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(PACKAGED_PROFILE_DIR, directory)
    regions = directory / "regions.toml"
    text = regions.read_text(encoding="utf-8")
    guizhou = 'profile_id = "guizhou-2020"\nversion = 1\neffective_from = 2020-04-14\n'
    assert guizhou in text, "the Guizhou assignment moved: update the e2e go-live"
    regions.write_text(text.replace(guizhou, guizhou + f"volume_completion_from = {GUIZHOU_VOLUME_COMPLETION_FROM}\n", 1), encoding="utf-8")
    return {POLICY_DIR_ENV: str(directory)}


@dataclass(frozen=True)
class Payment:
    paid_on: str
    amount: str
    payer: str = "institution"
    """``insurance_fund``: direct settlement (直接结算), deducted from the institution's monthly settlement."""


@dataclass(frozen=True)
class CreditNote:
    received_on: str
    amount: str


@dataclass(frozen=True)
class ProfileCase:
    """What one province does in its agreement year, and what its notice says must follow."""

    profile_id: str
    region: str
    county: str
    accepted_on: str
    invoice_received_on: str
    quantity: int
    payments: tuple[Payment, ...]
    expected_deadline: str
    expected_warned_on: str | None
    expected_withheld_from: str | None
    expected_final_status: str
    non_winning_base_units: int = 0
    credit_note: CreditNote | None = None
    first_deadline: str | None = None
    """the deadline before a credit note restarted the clock (红冲), when it did"""
    ordered: bool = False
    """the delivery went through a platform order (placed → confirmed → shipped → delivered)"""
    returned_quantity: int = 0
    agreed_quantity: int = 4000
    cycle_years: int = 1
    amended_to: int | None = None
    """the agreed volume after a mid-year amendment (调整约定采购量), if any"""
    rolled_over: bool = False
    filing_over_line: bool = False
    allocation_basis: int = 5000
    """the institution's reported demand, last year's platform purchases or last year's use, by the profile's method"""
    allocation_ratio: str | None = "0.8000"
    """reported demand × ratio (Shandong, Hubei, Liangjiang), share of last year's use (Chongqing 60–70%); None: the
    province's total is split by platform purchases (Guizhou)"""
    """bought 6,000 yuan of filing purchases (备案采购) against a 5,000 line the bureau set for the institution"""
    """the second agreement year of the cycle was signed from the first (续签) before the year ended"""

    @property
    def cycle_end(self) -> str:
        return f"{2025 + self.cycle_years}-12-31"

    @property
    def key(self) -> str:
        return self.profile_id.split("-")[0][:2].upper() + ("LJ" if "liangjiang" in self.profile_id else "")

    @property
    def institution(self) -> str:
        return f"{self.key}-H1"

    @property
    def distributor(self) -> str:
        return f"{self.key}-D1"

    @property
    def manufacturer(self) -> str:
        return f"{self.key}-M1"

    @property
    def contract(self) -> str:
        return f"{self.key}-C1"

    @property
    def product(self) -> str:
        return f"{self.key}-P1"

    @property
    def group(self) -> str:
        return f"{self.key}-G1"

    @property
    def invoice(self) -> str:
        return f"{self.key}-INV1"

    @property
    def order(self) -> str:
        return f"{self.key}-ORD1"

    @property
    def acceptance(self) -> str:
        return f"{self.institution}:{self.key}-HIS-1"


UNIT_PRICE = "2.5000"
BASE_UNITS_PER_BOX = 7  # a box of 20mg*7片 holds 7 片

CASES: tuple[ProfileCase, ...] = (
    ProfileCase(
        "guizhou-2020", "520100", "520102", accepted_on="2026-08-10", invoice_received_on="2026-08-15", quantity=400,
        payments=(Payment("2026-10-09", "1000.00"),),
        # 08-15 + 30 = 09-14 (Mon); warned 09-15; 10 working days: 09-16..18, 09-20 (调休 Sunday), 09-21..24,
        # (09-25 Mid-Autumn), 09-28, 09-29 → withheld from 09-30; paid on 10-09 → released.
        expected_deadline="2026-09-14", expected_warned_on="2026-09-15", expected_withheld_from="2026-09-30",
        expected_final_status="released", returned_quantity=20, agreed_quantity=640, allocation_basis=1500, allocation_ratio=None,
        # R3 (000 §五(三)), live from 07-01: the Q3 cumulative target is 3/4 × 640 = 480 boxes; 400 accepted − 20
        # returned = 380 → 79.17%: below the 80% warning line, above the 70% suspension line.
    ),
    ProfileCase(
        "shandong-2021", "370100", "370102", accepted_on="2026-08-20", invoice_received_on="2026-08-26", quantity=200,
        credit_note=CreditNote("2026-09-10", "50.00"), payments=(Payment("2026-09-28", "450.00", payer="insurance_fund"),),
        # 08-26 + 30 = 09-25, the Mid-Autumn Festival → Mon 09-28. A credit note (红冲) received on 09-10 restarts the
        # clock (credit_note_restarts_clock): 09-10 + 30 = Sat 10-10, a make-up working day (调休), so it stays.
        # The fund pays the distributor directly (直接结算, 001 §五) on 09-28.
        first_deadline="2026-09-28", expected_deadline="2026-10-10", expected_warned_on=None, expected_withheld_from=None,
        expected_final_status="paid",
    ),
    ProfileCase(
        "hubei-2019", "420100", "420102", accepted_on="2026-08-26", invoice_received_on="2026-09-02", quantity=300,
        payments=(),
        # acceptance 08-26 + 30 = 09-25 (holiday) → 09-28, although the invoice came a week later; warned 09-29 and,
        # without a withhold rule, still only warned at the end of October.
        expected_deadline="2026-09-28", expected_warned_on="2026-09-29", expected_withheld_from=None, expected_final_status="overdue",
    ),
    ProfileCase(
        "chongqing-2019", "500000", "500103", accepted_on="2026-07-13", invoice_received_on="2026-07-15", quantity=100,
        payments=(Payment("2026-08-14", "250.00"),),
        # 07-15 + 30 = 08-14 (Fri), paid that day. In July it bought 800 片 of a non-winning product of the group
        # against 700 片 winning (100 boxes × 7): R4 cap 1 exceeded.
        expected_deadline="2026-08-14", expected_warned_on=None, expected_withheld_from=None, expected_final_status="paid",
        non_winning_base_units=800, ordered=True, cycle_years=2, rolled_over=True, allocation_basis=6250, allocation_ratio="0.6400",
    ),
    ProfileCase(
        "chongqing-liangjiang-2023", "500099", "500099", accepted_on="2026-07-15", invoice_received_on="2026-07-20", quantity=120,
        payments=(Payment("2026-09-03", "300.00"),),
        # end of the month after acceptance: 08-31 (Mon); paid late on 09-03 → warned 09-01, warning closed by the payment.
        # It bought 700 片 non-winning against 840 winning: within the cap.
        expected_deadline="2026-08-31", expected_warned_on="2026-09-01", expected_withheld_from=None, expected_final_status="paid",
        non_winning_base_units=700, amended_to=3000, filing_over_line=True,
    ),
)


def amount_of(case: ProfileCase) -> str:
    return f"{case.quantity * 2.5:.2f}"


def budget_of(case: ProfileCase) -> str:
    return f"{case.agreed_quantity * 2.5:.2f}"


def amount_due(case: ProfileCase) -> str:
    credited = float(case.credit_note.amount) if case.credit_note else 0.0
    return f"{case.quantity * 2.5 - credited:.2f}"


HUBEI_PHASES = (("2026-07-06", 1, "3000.00"), ("2026-07-20", 2, "6000.00"))
"""The Hubei fund's prepayments (003 §四(三)) of 4000 boxes × 2.50 = 10,000.00: ≥30% after signing, the rest up to
90% once half the agreement year has passed (2026-07-01)."""

def run_agreement_year(system: System) -> dict[str, dict[str, Any]]:
    """Drive every profile's agreement year through the APIs; return what each party sees at the end, per profile."""
    with ExitStack() as clients:
        def client(service: str, party: str, role: Role) -> httpx.Client:
            return clients.enter_context(system.client(service, party, role))

        for case in CASES:
            _set_up(case, client)
        for case in CASES:
            _deliver_and_invoice(case, client)
        alerts = client("alerts", "OPS", Role.OPERATOR)
        for case in CASES:
            eventually(partial(_found, alerts, f"/invoices/{case.invoice}"), what=f"{case.invoice} known to alerts")
        for case in CASES:
            if case.non_winning_base_units:
                _buy_non_winning(case, client)
        # Facts of different topics arrive in any order: every set-up fact is in before the first day closes.
        everyone = len(CASES)
        for service, event, count in (
            ("alerts", ContractSigned, everyone), ("alerts", YearlyAgreementSigned, everyone), ("alerts", WinningProductListed, everyone),
            ("alerts", DeliveryAccepted, everyone), ("alerts", PurchaseRecorded, sum(bool(c.non_winning_base_units) for c in CASES)),
            ("settlement", YearlyAgreementSigned, everyone), ("settlement", DeliveryAccepted, everyone),
            ("contracts", DeliveryAccepted, everyone),
        ):
            eventually(partial(_has_consumed, system, service, event, count), what=f"{service} to handle every {event.event_name}")
        _run_timeline(system, client)
        _report_monthly_settlements(client)
        seen = {case.profile_id: _observe(case, client) for case in CASES}
        seen["platform"] = {
            "on_time_ranking_2026_08": alerts.get("/kpis", params={"month": "2026-08", "indicator": "on_time_payment_rate", "order": "desc"}).json(),
            "shortfall_2026": alerts.get("/reports/volume-shortfall", params={"year": 2026}).json(),
        }
        return seen


Client = Callable[[str, str, Role], httpx.Client]


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _set_up(case: ProfileCase, client: Client) -> None:
    ops = client("contracts", "OPS", Role.OPERATOR)
    batch = f"{case.key}-VBP-2026"
    for path, body in (
        ("/institutions", {"institution_id": case.institution, "name": f"{case.key} 人民医院", "pooling_region_code": case.region,
                           "county_code": case.county}),
        ("/manufacturers", {"party_id": case.manufacturer, "name": f"{case.key} 制药"}),
        ("/distributors", {"party_id": case.distributor, "name": f"{case.key} 医药物流"}),
        ("/generic-groups", {"group_id": case.group, "batch_id": batch, "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "base_unit": "片"}),
        ("/winning-products", {"product_id": case.product, "batch_id": batch, "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂",
                               "specification": "20mg*7片", "manufacturer_id": case.manufacturer, "winning_unit_price": UNIT_PRICE,
                               "trading_unit": "盒", "generic_group_id": case.group, "base_units_per_trading_unit": str(BASE_UNITS_PER_BOX)}),
        ("/non-winning-products", {"product_id": f"{case.key}-NW1", "generic_group_id": case.group, "generic_name": "阿托伐他汀钙片",
                                   "dosage_form": "片剂", "specification": "20mg*10片", "manufacturer_name": "非中选药业",
                                   "base_units_per_trading_unit": "10"}),
        ("/batches", {"batch_id": batch, "title": f"{case.key} 2026 带量采购", "pooling_region_code": case.region, "cycle_start": "2026-01-01",
                      "lines": [{"product_id": case.product, "winner_count": 2,
                                 **({} if case.profile_id == "hubei-2019" else {"cycle_years": case.cycle_years})}]}),

    ):
        _ok(ops.post(path, json=body))
    _sign_contract(case, ops)


def _sign_contract(case: ProfileCase, ops: httpx.Client) -> None:
    """任务量分解 by the profile's method (the API derives it from the region), reviewed and approved; then the contract
    is signed with the allocated volume, which also signs its first yearly agreement."""
    allocation = {"allocation_id": f"{case.key}-ALLOC-2026", "product_id": case.product, "agreement_year": 2026,
                  "pooling_region_code": case.region, "bases": [{"institution_id": case.institution, "quantity": case.allocation_basis}],
                  **({"ratio": case.allocation_ratio} if case.allocation_ratio else {"total": case.agreed_quantity})}
    _ok(ops.post("/volume-allocations", json=allocation))
    _ok(ops.post(f"/volume-allocations/{case.key}-ALLOC-2026/approval", json={"approved_on": "2025-12-15"}))
    [line] = _ok(ops.get(f"/volume-allocations/{case.key}-ALLOC-2026"))["lines"]
    agreed = line["allocated_quantity"]
    _ok(ops.post("/contracts", json={"contract_id": case.contract, "institution_id": case.institution, "manufacturer_id": case.manufacturer,
                                     "distributor_id": case.distributor, "product_id": case.product, "unit_price": UNIT_PRICE,
                                     "agreed_quantity": agreed, "cycle_start": "2026-01-01", "cycle_end": case.cycle_end, "signed_on": "2025-12-20"}))


def _deliver_and_invoice(case: ProfileCase, client: Client) -> None:
    his = client("orders", case.institution, Role.INSTITUTION)
    line = {"external_id": f"{case.key}-HIS-1", "contract_id": case.contract, "accepted_quantity": case.quantity,
            "rejected_quantity": 0, "accepted_on": case.accepted_on, "lot_number": "L2607", "product_id": case.product, "unit_price": UNIT_PRICE}
    if case.ordered:
        _order_and_ship(case, client)
        line["order_id"] = case.order
    push = {"lines": [line]}

    def pushed() -> bool:
        results = _ok(his.post(f"/institutions/{case.institution}/acceptances:batch", json=push))["results"]
        return all(r["status"] in ("accepted", "duplicate") for r in results)

    eventually(pushed, what=f"orders to know contract {case.contract}")
    distributor = client("orders", case.distributor, Role.DISTRIBUTOR)
    _ok(distributor.post("/invoices", json={
        "invoice_id": case.invoice, "invoice_number": f"{case.region}0001", "distributor_id": case.distributor,
        "institution_id": case.institution, "issued_on": case.accepted_on, "received_on": case.invoice_received_on,
        "amount": amount_of(case), "lines": [{"acceptance_id": case.acceptance, "quantity": case.quantity}],
    }))


def _order_and_ship(case: ProfileCase, client: Client) -> None:
    """订单: the institution orders on the platform, its distributor confirms and ships (配送) before the HIS accepts."""
    his = client("orders", case.institution, Role.INSTITUTION)
    distributor = client("orders", case.distributor, Role.DISTRIBUTOR)
    order = {"order_id": case.order, "institution_id": case.institution, "placed_on": "2026-07-06",
             "lines": [{"contract_id": case.contract, "quantity": case.quantity}]}
    eventually(lambda: his.post("/orders", json=order).status_code in (200, 201), what=f"orders to accept {case.order}")
    _ok(distributor.post(f"/orders/{case.order}/confirm", json={"confirmed_on": "2026-07-07"}))
    _ok(distributor.post(f"/orders/{case.order}/ship", json={"shipped_on": "2026-07-10"}))


def _report_monthly_settlements(client: Client) -> None:
    """The insurance system reports each institution's September settlement (医保月结算) after the quarter."""
    fund = client("settlement", "FUND", Role.FUND)
    for case in CASES:
        _ok(fund.post("/monthly-settlements", json={"settlement_id": f"MS-{case.institution}-2026-09", "institution_id": case.institution,
                                                    "month": "2026-09", "amount": "800000.00"}))


def _buy_non_winning(case: ProfileCase, client: Client) -> None:
    his = client("orders", case.institution, Role.INSTITUTION)
    boxes = case.non_winning_base_units // 10
    push = {"lines": [{"external_id": f"{case.key}-NW-1", "product_id": f"{case.key}-NW1", "quantity": boxes, "unit_price": "4.2000",
                       "purchased_on": "2026-07-20", "channel": "platform"}]}

    def pushed() -> bool:
        results = _ok(his.post(f"/institutions/{case.institution}/purchases:batch", json=push))["results"]
        return all(r["status"] in ("accepted", "duplicate") for r in results)

    eventually(pushed, what=f"orders to know non-winning product {case.key}-NW1")


Action = tuple[date, str, Callable[[], None], tuple[tuple[str, type[IntegrationEvent]], ...]]
"""A business day, a label, what to do, and the (service, fact) consumptions to wait for before time moves on."""


def _has_consumed(system: System, service: str, event: type[IntegrationEvent], at_least: float) -> bool:
    return _consumed(system, service, event) >= at_least


def _consumed(system: System, service: str, event: type[IntegrationEvent]) -> float:
    """How many ``event`` facts ``service`` has handled, from its public metrics (jicai_events_consumed_total)."""
    needle = f'type="{event.type_name()}"'
    return sum(float(line.rsplit(" ", 1)[1]) for line in system.metrics(service, "jicai_events_consumed_total").splitlines()
               if line.startswith("jicai_events_consumed_total{") and needle in line and 'outcome="handled"' in line)


def _timeline(client: Client) -> list[Action]:
    """Every dated business action of the year, to be taken on its own day."""
    fund = client("settlement", "FUND", Role.FUND)
    alerts = client("alerts", "OPS", Role.OPERATOR)
    actions: list[Action] = []

    def pay(case: ProfileCase, n: int, payment: Payment) -> None:
        body = {"payment_id": f"{case.key}-PAY{n + 1}", "institution_id": case.institution, "distributor_id": case.distributor,
                "paid_on": payment.paid_on, "amount": payment.amount, "allocations": [{"invoice_id": case.invoice, "amount": payment.amount}]}
        if payment.payer == "insurance_fund":
            _ok(fund.post("/direct-settlements", json=body))
        else:
            _ok(client("settlement", case.institution, Role.INSTITUTION).post("/payments", json=body))
        eventually(partial(_paid_something, alerts, case.invoice), what=f"payment of {case.invoice} in alerts")

    def credit(case: ProfileCase, note: CreditNote) -> None:
        _ok(client("orders", case.distributor, Role.DISTRIBUTOR).post(f"/invoices/{case.invoice}/credit-notes", json={
            "credit_note_id": f"{case.key}-CN1", "credit_note_number": f"{case.region}9001", "amount": note.amount,
            "received_on": note.received_on, "reason": "价格调整: 部分货品破损折让"}))
        eventually(lambda: alerts.get(f"/invoices/{case.invoice}").json()["credited"] == note.amount, what=f"credit note of {case.invoice} in alerts")

    def give_back(case: ProfileCase) -> None:
        _ok(client("orders", case.institution, Role.INSTITUTION).post(f"/acceptances/{case.acceptance}/returns", json={
            "return_id": f"{case.key}-RET1", "returned_quantity": case.returned_quantity, "returned_on": "2026-09-01", "reason": "近效期退货"}))

    def disburse(institution: str, phase: int, amount: str, on: str) -> None:
        _ok(fund.post("/prepayment-disbursements", json={
            "disbursement_id": f"{institution}-PRE{phase}", "institution_id": institution, "year": 2026, "phase": phase,
            "amount": amount, "disbursed_on": on}))

    def report(manufacturer: str, month: str, on: str) -> None:
        _ok(client("contracts", manufacturer, Role.MANUFACTURER).post("/manufacturer-reports", json={
            "month": month, "submitted_on": on, "produced_quantity": 50000,
            "supplied_quantity": 42000, "stock_quantity": 8000, "payments_received": "105000.00"}))

    contracts = client("contracts", "OPS", Role.OPERATOR)

    def amend(case: ProfileCase, quantity: int) -> None:
        _ok(contracts.post(f"/yearly-agreements/{case.contract}-y1/amendments", json={
            "agreed_quantity": quantity, "amended_on": "2026-09-01", "reason": "医疗机构实际使用量下降, 经统筹区医保局审核调整约定采购量"}))

    def roll_over(case: ProfileCase) -> None:
        _ok(contracts.post(f"/yearly-agreements/{case.contract}-y1/rollover", json={"rolled_over_on": "2026-12-28"}))

    def liquidate(institution: str) -> None:
        _ok(fund.post("/prepayment-liquidations", json={
            "liquidation_id": f"{institution}-LIQ-2026", "institution_id": institution, "year": 2026, "liquidated_on": "2026-12-31"}))

    def set_filing_line(case: ProfileCase) -> None:
        r = alerts.put(f"/institutions/{case.institution}/filing-warning-line", json={
            "amount": "5000.00", "from_year": 2026, "reason": "两江新区医保局设置药品备案采购金额预警线 (002 §二(三))"})
        assert r.status_code == 200, r.text

    def file_purchase(case: ProfileCase) -> None:
        _ok(client("orders", case.institution, Role.INSTITUTION).post("/filing-purchases", json={
            "filing_id": f"{case.key}-FIL1", "institution_id": case.institution, "generic_name": "注射用头孢曲松钠",
            "specification": "1g", "manufacturer_name": "某短缺药生产企业", "quantity": 30, "unit_price": "200.0000",
            "purchased_on": "2026-10-12", "filed_on": "2026-10-15", "reason": "平台短缺, 临床急需"}))

    for case in CASES:
        if case.filing_over_line:
            actions.append((date(2026, 8, 3), f"filing line of {case.institution}", partial(set_filing_line, case), ()))
            actions.append((date(2026, 10, 15), f"filing purchase of {case.institution}", partial(file_purchase, case),
                            (("alerts", FilingPurchaseRecorded),)))
        if case.amended_to is not None:
            actions.append((date(2026, 9, 1), f"amend {case.contract}", partial(amend, case, case.amended_to),
                            (("alerts", YearlyAgreementAmended), ("settlement", YearlyAgreementAmended))))
        if case.rolled_over:
            actions.append((date(2026, 12, 28), f"roll over {case.contract}", partial(roll_over, case),
                            (("alerts", YearlyAgreementRolledOver), ("settlement", YearlyAgreementRolledOver))))
        for n, payment in enumerate(case.payments):
            actions.append((date.fromisoformat(payment.paid_on), f"pay {case.invoice}", partial(pay, case, n, payment), ()))
        if case.credit_note:
            actions.append((date.fromisoformat(case.credit_note.received_on), f"credit {case.invoice}", partial(credit, case, case.credit_note),
                            (("settlement", InvoiceCredited),)))
        if case.returned_quantity:
            actions.append((date(2026, 9, 1), f"return {case.acceptance}", partial(give_back, case),
                            (("alerts", DeliveryReturned), ("contracts", DeliveryReturned), ("settlement", DeliveryReturned))))
    hubei = next(c for c in CASES if c.profile_id == "hubei-2019")
    actions.append((date(2026, 8, 3), f"{hubei.manufacturer} reports July", partial(report, hubei.manufacturer, "2026-07", "2026-08-03"),
                    (("alerts", ManufacturerReportSubmitted),)))
    for on, phase, amount in HUBEI_PHASES:
        actions.append((date.fromisoformat(on), f"prepay {hubei.institution} phase {phase}", partial(disburse, hubei.institution, phase, amount, on), ()))
    actions.append((date(2026, 12, 31), f"liquidate {hubei.institution}", partial(liquidate, hubei.institution), ()))
    return sorted(actions, key=lambda a: (a[0], a[1]))


def _run_timeline(system: System, client: Client) -> None:
    """Business time moves forward day by day; each action is taken on its own date, after the days before it closed."""
    settlement = client("settlement", "OPS", Role.OPERATOR)
    alerts = client("alerts", "OPS", Role.OPERATOR)
    for case in CASES:
        eventually(partial(_found, settlement, f"/invoices/{case.invoice}"), what=f"{case.invoice} in settlement")
    hubei = next(c for c in CASES if c.profile_id == "hubei-2019")
    eventually(partial(_found, settlement, f"/institutions/{hubei.institution}/prepayments/2026"), what="the Hubei prepayment schedule")
    closed = [QUARTER_FIRST_DAY - timedelta(days=1)]

    def close_through(last: date) -> None:
        system.close_days(closed[-1] + timedelta(days=1), last)
        closed.append(last)
        eventually(lambda: alerts.get("/clock").json().get("last_closed_on") == last.isoformat(), what=f"day {last} closed")

    for day, label, act, awaited in _timeline(client):
        if day > closed[-1] + timedelta(days=1):
            close_through(day - timedelta(days=1))
        before = {(service, event): _consumed(system, service, event) for service, event in awaited}
        act()
        for (service, event), count in before.items():  # facts travel asynchronously: no day closes over them
            eventually(partial(_has_consumed, system, service, event, count + 1), what=f"{service} to handle the {event.event_name} of {label}")
    close_through(LAST_CLOSED_DAY)


def _answer(response: httpx.Response) -> dict[str, Any]:
    return {"status": response.status_code, "body": response.json()}


def _found(client: httpx.Client, path: str) -> bool:
    return client.get(path).status_code == 200


def _paid_something(alerts: httpx.Client, invoice_id: str) -> bool:
    return bool(alerts.get(f"/invoices/{invoice_id}").json()["paid"] != "0.00")


def _observe(case: ProfileCase, client: Client) -> dict[str, Any]:
    alerts = client("alerts", "OPS", Role.OPERATOR)
    settlement = client("settlement", "OPS", Role.OPERATOR)
    orders = client("orders", "OPS", Role.OPERATOR)
    contracts = client("contracts", "OPS", Role.OPERATOR)
    invoice = alerts.get(f"/invoices/{case.invoice}").json()
    return {
        "invoice": invoice,
        "alerts": alerts.get(f"/institutions/{case.institution}/alerts", params={"include_closed": "true"}).json(),
        "non_winning": alerts.get(f"/institutions/{case.institution}/non-winning").json(),
        "settlement_status": settlement.get(f"/institutions/{case.institution}/settlement-status").json(),
        "settlement_invoice": settlement.get(f"/invoices/{case.invoice}").json(),
        "orders_invoice": orders.get(f"/invoices/{case.invoice}").json(),
        "order": orders.get(f"/orders/{case.order}").json() if case.ordered else None,
        "first_deadline_decision": alerts.get(f"/decisions/deadline-{case.invoice}").json(),
        "restarted_deadline_decision": alerts.get(f"/decisions/deadline-{case.invoice}:r2").json() if case.credit_note else None,
        "allocation": contracts.get(f"/volume-allocations/{case.key}-ALLOC-2026").json(),
        "yearly_agreement": contracts.get(f"/yearly-agreements/{case.contract}-y1").json(),
        "second_year_agreement": contracts.get(f"/yearly-agreements/{case.contract}-y2").json() if case.rolled_over else None,
        "monthly_settlements": settlement.get(f"/institutions/{case.institution}/monthly-settlements").json(),
        "volume_completion": alerts.get(f"/institutions/{case.institution}/volume-completion").json(),
        "kpis": {month: alerts.get(f"/institutions/{case.institution}/kpis", params={"month": month}).json() for month in ("2026-08", "2026-09")},
        "filing_warnings": alerts.get(f"/institutions/{case.institution}/filing-warnings").json(),
        "kpis_october": alerts.get(f"/institutions/{case.institution}/kpis", params={"month": "2026-10"}).json(),
        "as_of": {day: alerts.get(f"/institutions/{case.institution}/status", params={"as_of": day}).json() for day in ("2026-09-29", "2026-10-05")},
        "missed_reports": alerts.get(f"/manufacturers/{case.manufacturer}/missed-reports").json(),
        "prepayments": _answer(settlement.get(f"/institutions/{case.institution}/prepayments/2026", params={"as_of": LAST_CLOSED_DAY.isoformat()})),
    }
