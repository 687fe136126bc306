"""One alerts process closing business days on a seeded database (``bench.day_close`` runs it, before and after).

Run as a script, not as ``bench.…``: the "before" run puts an older tree's
libraries first on ``PYTHONPATH``, whose ``bench`` package may not have it.

    python bench/day_close_worker.py DATABASE_URL 2026-10-07 2026-10-08 …

Prints one JSON object: the seconds each ``DayClosed`` took through the consumer
path (claim, handler, commit), in order, and the CPU seconds of this process in each
(which follow the code more than the load of a shared machine do).
"""
from __future__ import annotations

import json
import sys
import time
from datetime import UTC, date, datetime


def main(url: str, days: list[date]) -> None:
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
        for day in days:
            envelope = Envelope.wrap(DayClosed(business_date=day), time=datetime.now(UTC))
            started, cpu_started = time.perf_counter(), time.process_time()
            outcome = client.portal.call(consumer.deliver, envelope)
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            assert outcome == "handled", outcome
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}))


if __name__ == "__main__":
    main(sys.argv[1], [date.fromisoformat(d) for d in sys.argv[2:]])
