"""One alerts process closing business days on a seeded database (``bench.day_close`` runs it, before and after).

Run as a script, not as ``bench.…``: the "before" run puts an older tree's
libraries first on ``PYTHONPATH``, whose ``bench`` package may not have it.

    python bench/day_close_worker.py DATABASE_URL 2026-10-07 2026-10-08 … [--partitions 0,2,4]
    python bench/day_close_worker.py DATABASE_URL --share 1,3,5 --until 2026-10-09

The first closes the days (the instance that opens each close); prints one JSON
object: the seconds each ``DayClosed`` took through the consumer path (claim,
handler, commit), in order, and the CPU seconds of this process in each (which
follow the code more than the load of a shared machine do). ``--partitions``: the
orders partitions it is assigned, as a consumer of a group of several would be.

The second is another instance of the group, assigned ``--share``: it takes its
share of every close in progress, as its consumer would (every ``SHARE_INTERVAL_S``), until the
clock has decided ``--until``; prints its CPU seconds and the invoices it decided.
"""
from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, date, datetime


def _assignment(partitions: str) -> frozenset[tuple[str, int]]:
    from jicai_events.topics import ORDERS

    return frozenset((ORDERS.qualified(), int(p)) for p in partitions.split(","))


def main(url: str, days: list[date], partitions: str | None) -> None:
    from fastapi.testclient import TestClient

    from jicai_alerts.bootstrap import RULES
    from jicai_alerts.entrypoints.app import build_app
    from jicai_alerts.settings import Settings
    from jicai_events import Envelope
    from jicai_events.catalog import DayClosed

    app = build_app(Settings(database_url=url, run_workers=False))
    seconds, cpu = [], []
    with TestClient(app) as client:
        consumer = app.state.runtime.event_consumer(RULES)
        assert client.portal is not None

        async def deliver(envelope: Envelope) -> str:
            if partitions is None:
                outcome: str = await consumer.deliver(envelope)
                return outcome
            from jicai_events.day_closes import assigned

            with assigned(_assignment(partitions)):
                outcome = await consumer.deliver(envelope)
                return outcome

        for day in days:
            envelope = Envelope.wrap(DayClosed(business_date=day), time=datetime.now(UTC))
            started, cpu_started = time.perf_counter(), time.process_time()
            outcome = client.portal.call(deliver, envelope)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            assert outcome == "handled", outcome
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}))


def share(url: str, partitions: str, until: date) -> None:
    from fastapi.testclient import TestClient
    from prometheus_client import REGISTRY
    from sqlalchemy import text

    from jicai_alerts.application import day_close
    from jicai_alerts.entrypoints.app import build_app
    from jicai_alerts.settings import Settings
    from jicai_events.day_closes import SHARE_INTERVAL_S, assigned

    app = build_app(Settings(database_url=url, run_workers=False))

    async def take_shares() -> None:
        runtime = app.state.runtime  # made by the app's start-up
        while True:
            started = time.monotonic()
            with assigned(_assignment(partitions)):
                await day_close.share(runtime.unit_of_work())
            async with runtime.unit_of_work() as uow:
                decided = await uow.session.scalar(
                    text("SELECT last_closed_on FROM clock WHERE NOT EXISTS (SELECT FROM day_close_runs)")
                )
            if decided is not None and decided >= until:
                return
            await asyncio.sleep(max(0.0, SHARE_INTERVAL_S - (time.monotonic() - started)))

    with TestClient(app) as client:
        assert client.portal is not None
        cpu_started = time.process_time()
        client.portal.call(take_shares)
        cpu = time.process_time() - cpu_started
    decided = REGISTRY.get_sample_value("jicai_day_close_invoices_decided_total", {"role": "share"}) or 0.0
    print(json.dumps({"cpu_seconds": cpu, "decided": decided}))


if __name__ == "__main__":
    args = sys.argv[1:]
    options = {args[i]: args[i + 1] for i in range(len(args)) if args[i].startswith("--")}
    positional = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or not args[i - 1].startswith("--"))]
    if "--share" in options:
        share(positional[0], options["--share"], date.fromisoformat(options["--until"]))
    else:
        main(positional[0], [date.fromisoformat(d) for d in positional[1:]], options.get("--partitions"))
