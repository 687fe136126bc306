"""Benchmark: one business-day close in alerts with many open invoices, on real PostgreSQL.

N invoices of one day become overdue together; the first DayClosed after
their deadline warns all of them (one stream append, read-model update and
outbox row per invoice), the next day's close finds nothing due. Both go
through the real consumer path (processed-event claim and one transaction).

    .venv/bin/python -m bench.day_close [--invoices 2000] [--runs 1]
"""
from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from fastapi.testclient import TestClient

from bench.common import Row, postgres_base_url, repeat, run_and_print
from jicai_alerts.bootstrap import RULES
from jicai_alerts.entrypoints.app import build_app
from jicai_alerts.settings import Settings
from jicai_events import Envelope
from jicai_events.catalog import DayClosed, InvoiceLine, InvoiceReceived
from tests.support import infra
from tests.support.tokens import bearer

ACCEPTED, RECEIVED = date(2026, 9, 1), date(2026, 9, 5)
DEADLINE = date(2026, 10, 8)


def _invoice(n: int) -> InvoiceReceived:
    return InvoiceReceived(
        invoice_id=f"INV-{n}", invoice_number=str(n), institution_id=f"H{n % 300:03d}", pooling_region_code="520100",
        distributor_id="D001", issued_on=ACCEPTED, received_on=RECEIVED, amount=Decimal("198.00"),
        lines=(InvoiceLine(acceptance_id=f"A{n}", contract_id="C1", quantity=100, unit_price=Decimal("1.9800"),
                           amount=Decimal("198.00"), accepted_on=ACCEPTED),),
        latest_acceptance_on=ACCEPTED,
    )


def once(invoices: int) -> dict[str, float]:
    """One fresh alerts database: track ``invoices`` invoices, then close the days around their deadline."""
    url = infra.migrated_database(postgres_base_url(), "alerts")
    try:
        app = build_app(Settings(database_url=url, run_workers=False))
        with TestClient(app) as client:
            consumer = app.state.runtime.event_consumer(RULES)

            def deliver(event: object) -> float:
                started = time.perf_counter()
                outcome = client.portal.call(consumer.deliver, Envelope.wrap(event, time=datetime.now(UTC)))  # type: ignore[union-attr, arg-type]
                assert outcome == "handled", outcome
                return time.perf_counter() - started

            tracking = sum(deliver(_invoice(n)) for n in range(invoices))
            quiet = deliver(DayClosed(business_date=DEADLINE - timedelta(days=1)))
            warning_day = deliver(DayClosed(business_date=DEADLINE))
            after = deliver(DayClosed(business_date=DEADLINE + timedelta(days=1)))
            warned = client.get("/institutions/H001/alerts", headers={"Authorization": "Bearer " + _ops()}).json()
            assert len(warned) == len(range(1, invoices, 300)), len(warned)
    finally:
        infra.drop_database(url)
    return {"decisions": invoices / warning_day, "tracking": invoices / tracking, "quiet_ms": quiet * 1000, "after_ms": after * 1000}


def measure(runs: int = 3, invoices: int = 2000) -> Row:
    return Row(
        key="day_close", title="Day close in alerts, invoices falling overdue the same day", size=f"{invoices} invoices",
        figures=repeat(runs, lambda _: once(invoices)),
        units={"decisions": "warnings decided/s (one DayClosed)", "tracking": "InvoiceReceived handled/s (deadline set)",
               "quiet_ms": "ms, DayClosed with nothing due (baseline)", "after_ms": "ms, the next DayClosed, nothing due"},
        note="in-process consumer path (processed-event claim, one transaction per event), real PostgreSQL, no Kafka.",
    )


def size_of(row: Row) -> int:
    return int(row.size.split()[0])


def main(invoices: Annotated[int, typer.Option()] = 2000, runs: Annotated[int, typer.Option()] = 1) -> None:
    run_and_print(lambda: measure(runs, invoices))


def _ops() -> str:
    from jicai_kit.auth import Role

    return bearer("OPS", Role.OPERATOR)


if __name__ == "__main__":
    typer.run(main)
