"""The simulator's parties and their calls on the public REST APIs (``jicai-simulate``).

Hospitals push the day's acceptances through their HIS token, the distributor
invoices and credits (红冲), hospitals pay as their behaviour says; each call is
made as the party a real client would be. What each invoice should come to (its
deadline, the day it should be warned) is reckoned here from the profile's own
rule arithmetic, as the call is made.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from jicai_devstack.demo import _eventually as eventually
from jicai_devstack.services import local_tls, party_token
from jicai_kit.auth import Role
from jicai_kit.clock import publish_day_closed
from jicai_kit.keys import SigningKey
from jicai_policy import PolicyBook
from jicai_policy.deadlines import payment_deadline
from jicai_policy.overdue import warning_date

BEHAVIOURS = ("on_time", "partial", "late", "never")
UNIT_PRICE = Decimal("1.9800")
CENT = Decimal("0.01")


@dataclass
class Invoice:
    invoice_id: str
    institution_id: str
    received_on: date
    latest_acceptance_on: date
    amount: Decimal
    credited: Decimal = Decimal("0.00")
    paid: list[tuple[date, Decimal]] = field(default_factory=list)
    deadline: date | None = None
    warned_on: date | None = None
    """The day the platform should warn (None: paid in full by the deadline)."""


@dataclass
class Hospital:
    institution_id: str
    region: str
    behaviour: str
    contract_id: str
    lines: int = 0
    uninvoiced: list[tuple[str, int, date]] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)


class Platform:
    """The public APIs, each call as the party a real client would be (a signed token per party)."""

    def __init__(self, urls: dict[str, str], key: SigningKey, bootstrap: str, ns: str) -> None:
        self.urls, self.key, self.bootstrap, self.ns = urls, key, bootstrap, ns
        self._clients: dict[tuple[str, str], httpx.Client] = {}

    def as_(self, service: str, party: str, role: Role) -> httpx.Client:
        key = (service, party)
        if key not in self._clients:
            token = party_token(self.key, party, role)
            self._clients[key] = httpx.Client(base_url=self.urls[service], headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                                verify=local_tls())
        return self._clients[key]

    def ops(self, service: str) -> httpx.Client:
        return self.as_(service, "OPS", Role.OPERATOR)

    def close(self) -> None:
        for c in self._clients.values():
            c.close()

    def close_days(self, days: list[date]) -> None:
        if days:
            asyncio.run(publish_day_closed(self.bootstrap, days, self.ns))


def ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url} → {response.status_code}: {response.text[:500]}")
    return response.json()


def register(platform: Platform, tag: str, hospitals: list[Hospital], first_day: date) -> tuple[str, str]:
    """Parties, product and contracts (idempotent); returns (manufacturer, distributor)."""
    contracts = platform.ops("contracts")
    manufacturer, distributor, product = f"{tag}-M1", f"{tag}-D1", f"{tag}-P1"
    for h in hospitals:
        ok(contracts.post("/institutions", json={"institution_id": h.institution_id, "name": f"模拟医院 {h.institution_id}",
                                                 "pooling_region_code": h.region, "county_code": h.region}))
    ok(contracts.post("/manufacturers", json={"party_id": manufacturer, "name": "模拟制药有限公司"}))
    ok(contracts.post("/distributors", json={"party_id": distributor, "name": "模拟医药配送有限公司"}))
    ok(contracts.post("/winning-products", json={
        "product_id": product, "batch_id": f"{tag}-VBP", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂", "specification": "20mg*7片",
        "manufacturer_id": manufacturer, "winning_unit_price": str(UNIT_PRICE), "trading_unit": "盒"}))
    for h in hospitals:
        ok(contracts.post("/contracts", json={
            "contract_id": h.contract_id, "institution_id": h.institution_id, "manufacturer_id": manufacturer, "distributor_id": distributor,
            "product_id": product, "unit_price": str(UNIT_PRICE), "agreed_quantity": 10**7,
            "cycle_start": date(first_day.year, 1, 1).isoformat(), "cycle_end": date(first_day.year + 1, 12, 31).isoformat(),
            "signed_on": date(first_day.year - 1, 12, 20).isoformat()}))
    return manufacturer, distributor


def push_day(platform: Platform, h: Hospital, day: date, rng: random.Random) -> None:
    lines: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 4)):
        h.lines += 1
        rejected = 1 if rng.random() < 0.1 else 0
        line = {"external_id": f"{h.institution_id}-{day:%Y%m%d}-{h.lines}", "contract_id": h.contract_id,
                "accepted_quantity": rng.randint(10, 200), "rejected_quantity": rejected, "accepted_on": day.isoformat(),
                "lot_number": f"L{day:%y%m}", **({"rejection_reason": "外包装破损"} if rejected else {})}
        lines.append(line)
    his = platform.as_("orders", h.institution_id, Role.INSTITUTION)

    def recorded() -> bool:
        results = ok(his.post(f"/institutions/{h.institution_id}/acceptances:batch", json={"lines": lines}))["results"]
        return all(r["status"] in ("accepted", "duplicate") for r in results)

    eventually(recorded, f"orders to know contract {h.contract_id}")  # the contract travels through Kafka first
    h.uninvoiced += [(f"{h.institution_id}:{line['external_id']}", line["accepted_quantity"], day) for line in lines]


def invoice(platform: Platform, book: PolicyBook, h: Hospital, distributor: str, day: date, rng: random.Random) -> Invoice:
    amount = sum(((UNIT_PRICE * q).quantize(CENT, ROUND_HALF_UP) for _, q, _ in h.uninvoiced), Decimal("0.00"))
    inv = Invoice(f"{h.institution_id}-INV{len(h.invoices) + 1}", h.institution_id, day, max(on for _, _, on in h.uninvoiced), amount)
    ok(platform.as_("orders", distributor, Role.DISTRIBUTOR).post("/invoices", json={
        "invoice_id": inv.invoice_id, "invoice_number": inv.invoice_id, "distributor_id": distributor, "institution_id": h.institution_id,
        "issued_on": day.isoformat(), "received_on": day.isoformat(), "amount": str(amount),
        "lines": [{"acceptance_id": a, "quantity": q} for a, q, _ in h.uninvoiced]}))
    h.uninvoiced = []
    if rng.random() < 0.2:  # 红冲: a tenth of the invoice credited the same day
        inv.credited = (amount / 10).quantize(CENT, ROUND_HALF_UP)
        ok(platform.as_("orders", distributor, Role.DISTRIBUTOR).post(f"/invoices/{inv.invoice_id}/credit-notes", json={
            "credit_note_id": f"{inv.invoice_id}-CN1", "credit_note_number": f"{inv.invoice_id}-CN1", "amount": str(inv.credited),
            "received_on": day.isoformat(), "reason": "价格调整"}))
    profile = book.profile_for(h.region, day)
    inv.deadline = payment_deadline(profile.payment_term, inv.latest_acceptance_on, inv.received_on, book.calendar)
    due = inv.amount - inv.credited
    if h.behaviour == "on_time":
        inv.paid.append((min(day + timedelta(days=3), inv.deadline), due))
    elif h.behaviour == "partial":
        inv.paid.append((min(day + timedelta(days=3), inv.deadline), (due / 2).quantize(CENT, ROUND_HALF_UP)))
    elif h.behaviour == "late":
        inv.paid.append((inv.deadline + timedelta(days=5), due))
    if sum((a for on, a in inv.paid if on <= inv.deadline), Decimal("0.00")) < due:
        inv.warned_on = warning_date(inv.deadline, profile.overdue, book.calendar)
    h.invoices.append(inv)
    return inv


def pay(platform: Platform, h: Hospital, inv: Invoice, n: int, on: date, amount: Decimal, distributor: str) -> None:
    settlement = platform.ops("settlement")
    eventually(lambda: settlement.get(f"/invoices/{inv.invoice_id}").status_code == 200, f"settlement to know {inv.invoice_id}")
    ok(platform.as_("settlement", h.institution_id, Role.INSTITUTION).post("/payments", json={
        "payment_id": f"{inv.invoice_id}-PAY{n}", "institution_id": h.institution_id, "distributor_id": distributor,
        "paid_on": on.isoformat(), "amount": str(amount), "allocations": [{"invoice_id": inv.invoice_id, "amount": str(amount)}]}))
