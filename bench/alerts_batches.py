"""Alerts' consumer path in-process: the same orders events one per transaction, then in consumer batches.

The backlog of the ``alerts_consume`` row (half ``DeliveryAccepted``, half
``InvoiceReceived``, 300 institutions) goes to two fresh alerts databases on
the benchmarks' PostgreSQL through ``EventHandling``, without Kafka: one
event per unit of work (``deliver``), then batches of ``--batch`` records as
one poll would hand them (``deliver_many``). Besides wall time it reports
the process's CPU seconds (less sensitive to a shared machine's load than
wall time) and the SQL statements sent (COPY not counted).

    .venv/bin/python -m bench.alerts_batches [--events 2000] [--batch 200] [--runs 1]
"""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from fastapi.testclient import TestClient
from sqlalchemy import event

from bench.alerts_consume import _acceptance
from bench.alerts_history import _invoice
from bench.common import Row, postgres_base_url, repeat, run_and_print
from jicai_alerts.bootstrap import RULES
from jicai_alerts.entrypoints.app import build_app
from jicai_alerts.settings import Settings
from jicai_events import Envelope
from tests.support import infra


def _consume(envelopes: list[Envelope], batch: int) -> tuple[float, float, int]:
    """(wall s, CPU s, statements) for a fresh alerts database to handle ``envelopes`` (batch 1: one by one)."""
    url = infra.migrated_database(postgres_base_url(), "alerts")
    try:
        app = build_app(Settings(database_url=url, run_workers=False))
        with TestClient(app) as client:
            runtime = app.state.runtime
            consumer = runtime.event_consumer(RULES)
            statements = [0]

            def count(*_: Any) -> None:
                statements[0] += 1

            event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
            assert client.portal is not None
            call: Callable[..., Any] = client.portal.call
            wall, cpu = time.perf_counter(), time.process_time()
            if batch == 1:
                outcomes = [call(consumer.deliver, e) for e in envelopes]
            else:
                outcomes = [o for start in range(0, len(envelopes), batch) for o in call(consumer.deliver_many, envelopes[start:start + batch])]
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert set(outcomes) == {"handled"}, set(outcomes)
        return wall, cpu, statements[0]
    finally:
        infra.drop_database(url)


def measure(runs: int = 1, events: int = 2000, batch: int = 200) -> Row:
    def once(_: int) -> dict[str, float]:
        now = datetime.now(UTC)
        envelopes = [Envelope.wrap(_acceptance(n) if n % 2 == 0 else _invoice(n), time=now) for n in range(events)]
        one_wall, one_cpu, one_sql = _consume(envelopes, 1)
        batch_wall, batch_cpu, batch_sql = _consume(envelopes, batch)
        return {
            "one": events / one_wall, "batched": events / batch_wall, "speedup": one_wall / batch_wall,
            "one_cpu_ms": one_cpu * 1000 / events, "batched_cpu_ms": batch_cpu * 1000 / events,
            "one_sql": one_sql / events, "batched_sql": batch_sql / events,
        }

    return Row(
        key="alerts_batches", title="Alerts' consumer path in-process: one event per transaction vs consumer batches",
        size=f"{events} events, batches of {batch}", figures=repeat(runs, once),
        units={"one": "events/s, one per transaction", "batched": "events/s, batched", "speedup": "batched / one",
               "one_cpu_ms": "CPU ms per event in the process, one per transaction", "batched_cpu_ms": "CPU ms per event, batched",
               "one_sql": "SQL statements per event, one per transaction", "batched_sql": "SQL statements per event, batched"},
        note="the alerts_consume backlog without Kafka; CPU time of the benchmark process (the service's share of the work).",
    )


def main(events: Annotated[int, typer.Option()] = 2000, batch: Annotated[int, typer.Option()] = 200,
         runs: Annotated[int, typer.Option()] = 1) -> None:
    run_and_print(lambda: measure(runs, events, batch))


if __name__ == "__main__":
    typer.run(main)
