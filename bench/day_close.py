"""Benchmark: one business-day close in alerts with many open invoices, on real PostgreSQL.

N invoices of one day become overdue together; the first DayClosed after
their deadline warns all of them (one stream append, read-model update and
outbox row per invoice), the next day's close finds nothing due. Both go
through the real consumer path (processed-event claim and one transaction).

    .venv/bin/python -m bench.day_close [--invoices 2000]
"""
from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer
from fastapi.testclient import TestClient

from jicai_alerts.bootstrap import RULES
from jicai_alerts.entrypoints.app import build_app
from jicai_alerts.settings import Settings
from jicai_events import Envelope
from jicai_events.catalog import DayClosed, InvoiceLine, InvoiceReceived
from tests.support import infra

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


def main(invoices: Annotated[int, typer.Option()] = 2000) -> None:
    url = infra.migrated_database(infra.postgres_base_url(), "alerts")
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
        print(f"InvoiceReceived (deadline set)      {invoices / tracking:7.0f} invoices/s ({tracking * 1000 / invoices:.1f} ms each)")
        print(f"DayClosed, nothing due              {quiet * 1000:7.0f} ms")
        print(f"DayClosed, {invoices} invoices warned  {warning_day:7.2f} s = {invoices / warning_day:.0f} decisions/s")
        print(f"DayClosed, next day, nothing due    {after * 1000:7.0f} ms")
    finally:
        infra.drop_database(url)
        infra.stop_test_infrastructure()


def _ops() -> str:
    from jicai_kit.auth import Role, issue_token
    from jicai_kit.settings import DEVELOPMENT_SECRET

    return issue_token(DEVELOPMENT_SECRET, "OPS", Role.OPERATOR)


if __name__ == "__main__":
    typer.run(main)
