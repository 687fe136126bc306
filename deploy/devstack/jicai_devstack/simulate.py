"""``jicai-simulate``: realistic traffic through the public REST APIs of a running platform.

For one policy profile it registers ``--institutions`` hospitals in the
profile's pooling regions, a manufacturer, a distributor, a winning product
and one contract per hospital; then, for ``--days`` business days, every
hospital's HIS pushes the day's acceptances, the distributor invoices each
hospital weekly (and credits some invoices, 红冲), and hospitals pay as
their behaviour says: on time, partly (部分回款), late, or never. Days are
closed as the scheduler would (``DayClosed`` on the clock topic), until the
last warning the simulation expects has fallen due. The same ``--seed``
always gives the same traffic.

What the simulator expects the platform to decide (a warning for every
invoice not fully paid at its deadline) comes from the profile's own rule
arithmetic (``jicai_policy``), so a test can compare it with what the
platform says. Every write is idempotent: running it twice changes nothing.
"""
from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from jicai_devstack.demo import _eventually as eventually
from jicai_devstack.services import party_token
from jicai_events.topics import namespace
from jicai_kit.auth import Role
from jicai_kit.clock import publish_day_closed
from jicai_kit.keys import SigningKey
from jicai_policy import PolicyBook, load_policy_book
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


@dataclass
class Summary:
    profile: str
    first_day: date
    last_traffic_day: date
    last_closed_day: date
    hospitals: list[Hospital]

    def expected_warnings(self, institution_id: str) -> list[str]:
        """Invoices the platform must have warned about by the last closed day."""
        h = next(h for h in self.hospitals if h.institution_id == institution_id)
        return [i.invoice_id for i in h.invoices if i.warned_on is not None and i.warned_on <= self.last_closed_day]


class Platform:
    """The public APIs, each call as the party a real client would be (a signed token per party)."""

    def __init__(self, urls: dict[str, str], key: SigningKey, bootstrap: str, ns: str) -> None:
        self.urls, self.key, self.bootstrap, self.ns = urls, key, bootstrap, ns
        self._clients: dict[tuple[str, str], httpx.Client] = {}

    def as_(self, service: str, party: str, role: Role) -> httpx.Client:
        key = (service, party)
        if key not in self._clients:
            token = party_token(self.key, party, role)
            self._clients[key] = httpx.Client(base_url=self.urls[service], headers={"Authorization": f"Bearer {token}"}, timeout=60)
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


def regions_of(book: PolicyBook, profile: str, on: date) -> list[str]:
    regions = []
    for code in sorted(book.regions):
        try:
            if book.profile_for(code, on).profile_id == profile:
                regions.append(code)
        except Exception:  # a region without a profile on that day is not a candidate
            continue
    if not regions:
        raise typer.BadParameter(f"no pooling region follows profile {profile!r} on {on}")
    return regions


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


def alerts_caught_up(platform: Platform, invoices: list[Invoice], today: date) -> None:
    """Before a day closes, alerts must hold every invoice, credit note and payment dated up to it (decisions use what it holds)."""
    alerts = platform.ops("alerts")
    for inv in invoices:
        paid = sum((a for on, a in inv.paid if on <= today), Decimal("0.00"))

        def seen(inv: Invoice = inv, paid: Decimal = paid) -> bool:
            r = alerts.get(f"/invoices/{inv.invoice_id}")
            return r.status_code == 200 and Decimal(r.json()["paid"]) >= paid and Decimal(r.json()["credited"]) >= inv.credited

        eventually(seen, f"alerts to see {inv.invoice_id}")


def simulate(platform: Platform, profile: str, institutions: int, days: int, seed: int, first_day: date,
             on_day: Callable[[date], None] = lambda _: None) -> Summary:
    rng = random.Random(seed)
    book = load_policy_book()
    regions = regions_of(book, profile, first_day)
    tag = f"SIM{seed}"
    behaviours = [BEHAVIOURS[(i + seed) % len(BEHAVIOURS)] for i in range(institutions)]
    hospitals = [Hospital(f"{tag}-{profile[:2].upper()}{i:03d}", regions[i % len(regions)], behaviours[i], f"{tag}-C{i:03d}") for i in range(institutions)]
    _, distributor = register(platform, tag, hospitals, first_day)
    last_traffic = first_day + timedelta(days=days - 1)
    day, last_closed, pending = first_day, first_day - timedelta(days=1), []
    while True:
        touched: list[Invoice] = []
        if day <= last_traffic:
            for h in hospitals:
                push_day(platform, h, day, rng)
                if (day - first_day).days % 7 == 6 or day == last_traffic:
                    touched.append(invoice(platform, book, h, distributor, day, rng))
        for h in hospitals:
            for inv in h.invoices:
                for n, (on, amount) in enumerate(inv.paid, start=1):
                    if on == day:
                        pay(platform, h, inv, n, on, amount, distributor)
                        touched.append(inv)
        pending.append(day)
        if touched:
            alerts_caught_up(platform, touched, day)
        all_invoices = [i for h in hospitals for i in h.invoices]
        end = max([last_traffic] + [i.warned_on for i in all_invoices if i.warned_on] + [on for i in all_invoices for on, _ in i.paid])
        if touched or day == end:
            platform.close_days(pending)
            last_closed, pending = day, []
        on_day(day)
        if day >= end:
            break
        day += timedelta(days=1)
    return Summary(profile, first_day, last_traffic, last_closed, hospitals)


def next_open_day(platform: Platform, fallback: date) -> date:
    """The day after the last one the platform closed (a simulation in the past would record late facts)."""
    last = ok(platform.ops("alerts").get("/clock")).get("last_closed_on")
    return date.fromisoformat(last) + timedelta(days=1) if last else fallback


def print_summary(summary: Summary, console: Console) -> None:
    table = Table(title=f"jicai-simulate: {summary.profile}, {summary.first_day} to {summary.last_traffic_day}, days closed until {summary.last_closed_day}")
    for column in ("institution", "region", "behaviour", "lines pushed", "invoices", "credited", "paid", "expected warnings"):
        table.add_column(column)
    for h in summary.hospitals:
        credited = sum((i.credited for i in h.invoices), Decimal("0.00"))
        paid = sum((a for i in h.invoices for on, a in i.paid if on <= summary.last_closed_day), Decimal("0.00"))
        table.add_row(h.institution_id, h.region, h.behaviour, str(h.lines), str(len(h.invoices)), str(credited), str(paid),
                      str(len(summary.expected_warnings(h.institution_id))))
    console.print(table)


def summary_json(summary: Summary) -> str:
    """What the simulation did and expects, per institution (``--json``), for scripts and tests to compare with the platform."""
    return json.dumps({
        "profile": summary.profile, "first_day": summary.first_day.isoformat(), "last_closed_day": summary.last_closed_day.isoformat(),
        "institutions": {
            h.institution_id: {
                "behaviour": h.behaviour, "lines_pushed": h.lines, "invoices": [i.invoice_id for i in h.invoices],
                "credit_notes": sum(1 for i in h.invoices if i.credited),
                "payments": sum(1 for i in h.invoices for on, _ in i.paid if on <= summary.last_closed_day),
                "expected_warnings": summary.expected_warnings(h.institution_id),
            }
            for h in summary.hospitals
        },
    })


def _signing_key(key_file: Path) -> SigningKey:
    if not key_file.exists():
        raise typer.BadParameter(f"no signing key {key_file}: start the platform with `make up` first")
    return SigningKey.load(key_file)


def main(
    profile: Annotated[str, typer.Option(help="policy profile id, e.g. guizhou-2020")] = "guizhou-2020",
    institutions: Annotated[int, typer.Option(min=1, max=500)] = 10,
    days: Annotated[int, typer.Option(min=1, max=366, help="business days of traffic")] = 14,
    seed: Annotated[int, typer.Option(min=0)] = 1,
    start: Annotated[str | None, typer.Option(help="first day (YYYY-MM-DD); default the day after the platform's last closed day")] = None,
    contracts_url: str = "http://127.0.0.1:8001", orders_url: str = "http://127.0.0.1:8002",
    settlement_url: str = "http://127.0.0.1:8003", alerts_url: str = "http://127.0.0.1:8004",
    bootstrap: Annotated[str, typer.Option(help="Kafka, for DayClosed on the clock topic")] = "127.0.0.1:9092",
    key_file: Annotated[Path, typer.Option("--key", envvar="JICAI_AUTH_SIGNING_KEY_FILE", help="private JWK that signs the parties' tokens")] = Path(
        ".run/auth/signing-key.json"),
    as_json: Annotated[bool, typer.Option("--json", help="also print the summary as one JSON object, last line")] = False,
) -> None:
    """Drive realistic traffic through the public APIs of a running platform (`make up`) and print what it did."""
    urls = {"contracts": contracts_url, "orders": orders_url, "settlement": settlement_url, "alerts": alerts_url}
    platform = Platform(urls, _signing_key(key_file), bootstrap, namespace())
    console = Console(width=None if sys.stdout.isatty() else 160)  # a log or a pipe keeps the table on one line per row
    try:
        first_day = date.fromisoformat(start) if start else next_open_day(platform, date(2026, 3, 2))
        with Progress(console=console) as progress:
            task = progress.add_task("days", total=None)
            summary = simulate(platform, profile, institutions, days, seed, first_day, lambda d: progress.update(task, advance=1, description=str(d)))
        print_summary(summary, console)
        if as_json:
            print(summary_json(summary))
    finally:
        platform.close()


def cli() -> None:
    typer.run(main)


if __name__ == "__main__":
    cli()
