"""Row ``history``: does an event cost alerts more as a hospital's history grows? On real PostgreSQL.

One hospital (H001) with one contract and a listed winning product receives N
``DeliveryAccepted`` (one non-winning ``PurchaseRecorded`` after every 20th), all
through the real consumer path (processed-event claim, handlers, one transaction
each). The cost of the acceptances around the 100th, 1,000th and 10,000th (as
far as N goes, and the Nth) is reported with the SQL statements and rows each
took; the row's figure is the cost at the last checkpoint over the cost at the
100th (goal: 1 ± 0.2). The baseline is the hospital's own 100th acceptance,
in the same run. Then, alone, ``InvoiceReceived`` for many hospitals: its rate
and statements. On a shared machine the median follows the load; the fastest
of a window shows the cost itself, and the rows do not follow the load at all.
The report (``--invoices`` > 0) also gives each statement's median per checkpoint,
to tell which one grows (``bench.history_plans`` then shows its plan).

    .venv/bin/python -m bench.alerts_history [--acceptances 1000] [--invoices 500] [--runs 1]
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, NamedTuple

import typer
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.common import Row, postgres_base_url, repeat, run_and_print, stop_infrastructure
from bench.facts import invoice
from jicai_alerts.bootstrap import RULES
from jicai_alerts.entrypoints.app import build_app
from jicai_alerts.settings import Settings
from jicai_events import Envelope, IntegrationEvent
from jicai_events.catalog import (
    ContractSigned,
    DeliveryAccepted,
    PurchaseRecorded,
    WinningProductListed,
)
from tests.support import infra

REGION, START = "520100", date(2026, 1, 1)
WINDOW = 50
"""Acceptances measured up to each checkpoint (the 51st..100th for the 100th)."""
CHECKPOINTS = (100, 1_000, 10_000)


class Statements:
    """Counts SQL statements sent, the rows they returned or changed, and the time each took, by any engine of the
    process (the service's own, in-process): unlike time, the rows do not follow the load of a shared machine."""

    def __init__(self) -> None:
        self.count = self.rows = 0
        self.timed: list[tuple[str, float]] = []
        self._started = 0.0
        event.listen(Engine, "before_cursor_execute", self._start)
        event.listen(Engine, "after_cursor_execute", self._count)

    def _start(self, *_: Any) -> None:
        self._started = time.perf_counter()

    def _count(self, _conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.timed.append((statement, time.perf_counter() - self._started))
        self.count += 1
        self.rows += max(cursor.rowcount, 0)

    @contextmanager
    def counting(self) -> Iterator[Sent]:
        start, rows, timed, result = self.count, self.rows, len(self.timed), Sent()
        yield result
        result.statements, result.rows = self.count - start, self.rows - rows
        result.timed = tuple(self.timed[timed:])
        del self.timed[timed:]


@dataclass
class Sent:
    """What one event sent: its SQL statements, the rows they returned or changed, and each statement's seconds."""

    statements: int = 0
    rows: int = 0
    timed: tuple[tuple[str, float], ...] = ()


def _acceptance(n: int) -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=f"A{n}", external_id=f"L{n}", institution_id="H001", pooling_region_code=REGION, contract_id="C1",
        product_id="P1", distributor_id="D001", accepted_quantity=10, rejected_quantity=0,
        accepted_on=START + timedelta(days=n % 330), lot_number="LOT1", unit_price=Decimal("1.9800"),
        accepted_amount=Decimal("19.80"),
    )


def _purchase(n: int) -> PurchaseRecorded:
    return PurchaseRecorded(
        purchase_id=f"NW{n}", external_id=f"NWL{n}", institution_id="H001", pooling_region_code=REGION, product_id="P9",
        generic_group_id="G1", winning=False, channel="platform", quantity=1, base_units=Decimal("10"),
        unit_price=Decimal("5.0000"), amount=Decimal("5.00"), purchased_on=START + timedelta(days=n % 330),
    )


class Cost(NamedTuple):
    """One event's seconds, SQL statements, rows returned or changed, and each statement's text and seconds."""

    seconds: float
    statements: int
    rows: int
    timed: tuple[tuple[str, float], ...]


def checkpoints(acceptances: int) -> list[int]:
    """The checkpoints reached, and the last acceptance itself when it is none of them."""
    reached = [c for c in CHECKPOINTS if c <= acceptances]
    return reached if reached and reached[-1] == acceptances else [*reached, acceptances]


def history_costs(url: str, acceptances: int, invoices: int = 0) -> tuple[float, dict[int, Cost], list[Cost]]:
    """On a migrated alerts database: (seconds for every acceptance, each acceptance's cost by its number, each invoice's cost)."""
    statements = Statements()
    app = build_app(Settings(database_url=url, run_workers=False))
    with TestClient(app) as client:
        consumer = app.state.runtime.event_consumer(RULES)
        assert client.portal is not None
        call: Callable[..., Any] = client.portal.call

        def deliver(fact: IntegrationEvent) -> Cost:
            with statements.counting() as sent:
                started = time.perf_counter()
                outcome = call(consumer.deliver, Envelope.wrap(fact, time=datetime.now(UTC)))
                took = time.perf_counter() - started
            assert outcome == "handled", outcome
            return Cost(took, sent.statements, sent.rows, sent.timed)

        deliver(ContractSigned(
            contract_id="C1", institution_id="H001", pooling_region_code=REGION, manufacturer_id="M001",
            distributor_id="D001", product_id="P1", unit_price=Decimal("1.9800"), agreed_quantity=100_000,
            cycle_start=START, cycle_end=date(2026, 12, 31), signed_on=START,
        ))
        deliver(WinningProductListed(
            product_id="P1", batch_id="B1", generic_name="阿莫西林", dosage_form="胶囊", specification="0.25g",
            manufacturer_id="M001", winning_unit_price=Decimal("1.9800"), trading_unit="盒", generic_group_id="G1",
            base_units_per_trading_unit=Decimal("10"),
        ))
        costs: dict[int, Cost] = {}
        started = time.perf_counter()
        for n in range(1, acceptances + 1):
            costs[n] = deliver(_acceptance(n))
            if n % 20 == 0:
                deliver(_purchase(n))
        history = time.perf_counter() - started
        received = [deliver(invoice(n)) for n in range(invoices)]
    return history, costs, received


def window(costs: dict[int, Cost], checkpoint: int) -> tuple[float, float, int, int]:
    """Around ``checkpoint`` (the WINDOW acceptances up to it): median and fastest seconds, most statements, most rows."""
    around = [costs[n] for n in range(max(checkpoint - WINDOW + 1, 1), checkpoint + 1)]
    return (statistics.median(c.seconds for c in around), min(c.seconds for c in around),
            max(c.statements for c in around), max(c.rows for c in around))


def by_statement(costs: dict[int, Cost], checkpoint: int) -> dict[str, float]:
    """Around ``checkpoint``: each statement's median milliseconds per acceptance (the same text sent twice in one
    acceptance counts as one, summed), by its text with whitespace collapsed."""
    around = [costs[n] for n in range(max(checkpoint - WINDOW + 1, 1), checkpoint + 1)]
    per_event: dict[str, list[float]] = {}
    for cost in around:
        summed: dict[str, float] = {}
        for statement, seconds in cost.timed:
            text = " ".join(statement.split())
            summed[text] = summed.get(text, 0.0) + seconds * 1000
        for text, ms in summed.items():
            per_event.setdefault(text, []).append(ms)
    return {text: statistics.median(ms) for text, ms in per_event.items()}


def measure(runs: int = 1, acceptances: int = 10_000) -> Row:
    """The row: cost around the last checkpoint over the cost around the 100th, one hospital's history in one run."""
    assert acceptances >= CHECKPOINTS[0], f"at least {CHECKPOINTS[0]} acceptances"
    last = checkpoints(acceptances)[-1]

    def once(_: int) -> dict[str, float]:
        url = infra.migrated_database(postgres_base_url(), "alerts")
        try:
            history, costs, _invoices = history_costs(url, acceptances)
        finally:
            infra.drop_database(url)
        first_ms, first_fast, first_sql, first_rows = window(costs, CHECKPOINTS[0])
        last_ms, last_fast, last_sql, last_rows = window(costs, last)
        return {
            "ratio": last_ms / first_ms, "fastest_ratio": last_fast / first_fast,
            "first_ms": first_ms * 1000, "last_ms": last_ms * 1000, "rows_first": first_rows, "rows_last": last_rows,
            "sql_last": last_sql, "events_per_s": acceptances / history,
        }

    return Row(
        key="history", title="Per-event cost as one hospital's history grows (alerts, DeliveryAccepted)",
        size=f"{acceptances} acceptances of one hospital, its {last}th vs its {CHECKPOINTS[0]}th", figures=repeat(runs, once),
        units={"ratio": f"cost around the {last}th / around the {CHECKPOINTS[0]}th (median of {WINDOW}; goal 0.8–1.2)",
               "fastest_ratio": f"the same, fastest of {WINDOW} each", "first_ms": f"ms per acceptance around the {CHECKPOINTS[0]}th (baseline)",
               "last_ms": f"ms per acceptance around the {last}th", "rows_first": f"rows read or written, around the {CHECKPOINTS[0]}th",
               "rows_last": f"rows read or written, around the {last}th", "sql_last": f"SQL statements per acceptance around the {last}th",
               "events_per_s": "acceptances/s over the whole history (one per transaction)"},
        note="the real consumer path in-process (processed-event claim, handlers, one transaction per event), a non-winning "
             "purchase after every 20th acceptance; rows do not follow the machine's load, milliseconds do.",
    )


def main(acceptances: Annotated[int, typer.Option()] = 1000, invoices: Annotated[int, typer.Option()] = 500,
         runs: Annotated[int, typer.Option()] = 1) -> None:
    if not invoices:
        run_and_print(lambda: measure(runs, acceptances))
        return
    url = infra.migrated_database(postgres_base_url(), "alerts")
    try:
        history, costs, received = history_costs(url, acceptances, invoices)
    finally:
        infra.drop_database(url)
        stop_infrastructure()
    print(f"{acceptances} DeliveryAccepted of one hospital (+{acceptances // 20} non-winning purchases): {history:.1f} s")
    for checkpoint in checkpoints(acceptances):
        median, fastest, sql, rows = window(costs, checkpoint)
        print(f"  around the {checkpoint:>6}th: {median * 1000:6.1f} ms each (median of {WINDOW}; fastest "
              f"{fastest * 1000:.1f} ms), {1 / median:5.0f} events/s, {sql} SQL statements, {rows} rows")
    reached = checkpoints(acceptances)
    timings = {checkpoint: by_statement(costs, checkpoint) for checkpoint in reached}
    print("  per statement, median ms per acceptance around the " + " / ".join(f"{c}th" for c in reached) + ":")
    for text in sorted(timings[reached[-1]], key=lambda t: -timings[reached[-1]][t]):
        figures = " / ".join(f"{timings[c].get(text, 0.0):5.2f}" for c in reached)
        print(f"    {figures}  {text[:160]}")
    total = sum(c.seconds for c in received)
    print(f"{invoices} InvoiceReceived: {invoices / total:.0f} invoices/s ({total * 1000 / invoices:.1f} ms each), "
          f"{max(c.statements for c in received)} SQL statements each")


if __name__ == "__main__":
    typer.run(main)
