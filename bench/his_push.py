"""Benchmark: HIS acceptance pushes through the orders API into real PostgreSQL.

Measures lines recorded per second for batches of 500 lines (each line its
own event stream, read model row and outbox row, one transaction per batch),
and the cost of a full retry of the same batch (all duplicates).

    .venv/bin/python -m bench.his_push [--batches 10] [--lines 500]
"""
from __future__ import annotations

import statistics
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

import typer
from fastapi.testclient import TestClient

from jicai_events import Envelope
from jicai_events.catalog import ContractSigned
from jicai_kit.auth import Role, issue_token
from jicai_kit.settings import DEVELOPMENT_SECRET
from jicai_orders.bootstrap import CONTRACTS_CONSUMER
from jicai_orders.entrypoints.app import build_app
from jicai_orders.settings import Settings
from tests.support import infra


def main(batches: Annotated[int, typer.Option()] = 10, lines: Annotated[int, typer.Option()] = 500) -> None:
    url = infra.migrated_database(infra.postgres_base_url(), "orders")
    try:
        app = build_app(Settings(database_url=url, run_workers=False))
        headers = {"Authorization": f"Bearer {issue_token(DEVELOPMENT_SECRET, 'H001', Role.INSTITUTION)}"}
        contract = ContractSigned(
            contract_id="C1", institution_id="H001", pooling_region_code="520100", manufacturer_id="M1", distributor_id="D1",
            product_id="P1", unit_price=Decimal("1.9800"), agreed_quantity=10**9, cycle_start=date(2026, 1, 1),
            cycle_end=date(2026, 12, 31), signed_on=date(2025, 12, 20),
        )
        with TestClient(app) as client:
            consumer = app.state.runtime.event_consumer(CONTRACTS_CONSUMER)
            client.portal.call(consumer.deliver, Envelope.wrap(contract, time=datetime.now(UTC)))  # type: ignore[union-attr]
            fresh, retried = [], []
            for b in range(batches):
                body = {"lines": [{"external_id": f"B{b}-L{i}", "contract_id": "C1", "accepted_quantity": 10, "rejected_quantity": 0,
                                   "accepted_on": "2026-09-01", "lot_number": "A1"} for i in range(lines)]}
                for timings, expected in ((fresh, "accepted"), (retried, "duplicate")):
                    started = time.perf_counter()
                    r = client.post("/institutions/H001/acceptances:batch", json=body, headers=headers)
                    timings.append(time.perf_counter() - started)
                    assert r.status_code == 200 and r.json()[expected + ("s" if expected == "duplicate" else "")] == lines, r.text[:300]
        for name, timings in (("new lines", fresh), ("retried batch (all duplicates)", retried)):
            median = statistics.median(timings)
            print(f"{name:32} median {median * 1000:7.0f} ms per {lines}-line batch = {lines / median:7.0f} lines/s "
                  f"(min {min(timings) * 1000:.0f} ms, max {max(timings) * 1000:.0f} ms, {batches} batches)")
    finally:
        infra.drop_database(url)
        infra.stop_test_infrastructure()


if __name__ == "__main__":
    typer.run(main)
