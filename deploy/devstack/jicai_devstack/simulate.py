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

import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from jicai_devstack.demo import _eventually as eventually
from jicai_devstack.traffic import BEHAVIOURS, Hospital, Invoice, Platform, invoice, ok, pay, push_day, register
from jicai_events.topics import namespace
from jicai_kit.keys import SigningKey
from jicai_policy import PolicyBook, load_policy_book


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
