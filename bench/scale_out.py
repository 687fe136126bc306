"""Row ``scale_out``: alerts on 1, 2 and 4 instances (one consumer group, six partitions) working off the same backlog.

For each instance count, a fresh topic namespace and alerts database: the
instances (``jicai-serve alerts`` with their consumers, one database, as
deployed) start and join the group first; then the backlog of the
``alerts_consume`` row (half ``DeliveryAccepted``, half ``InvoiceReceived``,
300 hospitals) goes to the orders topic, followed by ``days`` business-day
closes: ``DayClosed`` on the clock topic (one partition: one instance reads
it and records the close in the shared database) and, as the producing
services would, a ``DayCloseReached`` marker on every partition of every topic
alerts reads, so whichever instance holds the watermarks decides the day. The
figure is the rate from the first fact produced until every fact is handled
and every day decided. The invoices fall overdue at the close of 2026-10-08:
the decisions (warnings and withholds) of each multi-instance run are compared
with the single instance's, row for row (ids aside: kind, invoice, day,
event), and counted for duplicates; both must be 0.

    .venv/bin/python -m bench.scale_out [--events 2000] [--instances 1,2,4] [--runs 1]
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from datetime import date, timedelta
from typing import Annotated, Any

import psycopg
import typer

from bench.alerts_consume import produce_backlog
from bench.common import Row, Spread, kafka_bootstrap, postgres_base_url, run_and_print, serve_instances
from jicai_events.kafka import ensure_topics
from tests.support import infra
from tests.support.kafka_facts import close_days, wait_for_group

GROUP = "alerts.rules"
FIRST_DAY = date(2026, 9, 1)

Decision = tuple[str, str, str, date, str]
"""(kind, invoice, institution, effective day, event) of a decision, its id aside."""


def _progress(conn: psycopg.Connection[Any]) -> tuple[int, int, int]:
    """(facts handled or otherwise taken, days decided, facts not handled) by the rules consumer."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM processed_events WHERE consumer = %(c)s),"
        " (SELECT count(*) FROM day_closes WHERE consumer = %(c)s AND decided_at IS NOT NULL),"
        " (SELECT count(*) FROM processed_events WHERE consumer = %(c)s AND outcome <> 'handled')",
        {"c": GROUP},
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def drain(dsn: str, events: int, days: int, timeout: float) -> int:
    """Poll alerts' database until every fact is taken and every day decided; the facts not handled (must be 0)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            taken, decided, unhandled = _progress(conn)
            if taken >= events and decided >= days:
                return unhandled
            time.sleep(0.2)
    raise TimeoutError(f"alerts did not take {events} facts and decide {days} days in {timeout:.0f} s (taken {taken}, decided {decided})")


def decisions(dsn: str) -> list[Decision]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT kind, invoice_id, institution_id, effective_on, event_name FROM decisions").fetchall()
    return sorted((r[0], r[1], r[2], r[3], r[4]) for r in rows)


def differences(a: list[Decision], b: list[Decision]) -> int:
    """Decisions in one list and not the other, counted with multiplicity."""
    left, right = Counter(a), Counter(b)
    return sum(((left - right) + (right - left)).values())


def duplicates(found: list[Decision]) -> int:
    """Decisions taken more than once: the same kind for the same invoice on the same day."""
    return len(found) - len({(kind, invoice, day) for kind, invoice, _, day, _ in found})


def run_instances(bootstrap: str, base: str, count: int, events: int, days: list[date]) -> tuple[float, list[Decision], int]:
    """``count`` alerts instances on a fresh namespace and database: (seconds from the first fact to the last decided
    day, the decisions, facts not handled)."""
    ns = f"bench-{uuid.uuid4().hex[:8]}."
    asyncio.run(ensure_topics(bootstrap, ns))
    url = infra.migrated_database(base, "alerts")
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap, "JICAI_KAFKA_NAMESPACE": ns}
        with serve_instances("alerts", url, count, env, workers=True):
            asyncio.run(wait_for_group(bootstrap, ns + GROUP, count))
            started = time.perf_counter()
            asyncio.run(produce_backlog(bootstrap, ns, events))
            asyncio.run(close_days(bootstrap, ns, days))
            unhandled = drain(dsn, events, len(days), timeout=max(300.0, events / 2))
            seconds = time.perf_counter() - started
        return seconds, decisions(dsn), unhandled
    finally:
        infra.drop_database(url)


def measure(runs: int = 1, events: int = 2000, days: int = 61, instances: tuple[int, ...] = (1, 2, 4)) -> Row:
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # a fresh topic's first sends retry until it has a leader
    assert instances[0] == 1, "the first run is the single instance the others are compared with"
    base, bootstrap = postgres_base_url(), kafka_bootstrap()
    closed = [FIRST_DAY + timedelta(days=d) for d in range(days)]
    results: list[dict[str, float]] = []
    for _ in range(runs):
        figures: dict[str, float] = {}
        single: list[Decision] = []
        for count in instances:
            seconds, found, unhandled = run_instances(bootstrap, base, count, events, closed)
            single = single or found
            figures[f"rate_{count}"] = (events + days) / seconds
            figures[f"differences_{count}"] = differences(single, found)
            figures[f"duplicates_{count}"] = duplicates(found)
            figures[f"unhandled_{count}"] = unhandled
        figures["decisions"] = len(single)
        figures["speedup"] = figures[f"rate_{instances[-1]}"] / figures["rate_1"]
        results.append(figures)
    units: dict[str, str] = {}
    for count in instances:
        units |= {f"rate_{count}": f"facts and day closes/s, {count} instance{'s' if count > 1 else ''}",
                  f"differences_{count}": f"decisions differing from the single instance's, {count} instances (must be 0)",
                  f"duplicates_{count}": f"decisions taken twice, {count} instance{'s' if count > 1 else ''} (must be 0)",
                  f"unhandled_{count}": f"facts dead-lettered or ignored, {count} instance{'s' if count > 1 else ''} (must be 0)"}
    units |= {"decisions": "decisions taken (warnings, withholds, deadlines)", "speedup": f"rate on {instances[-1]} / rate on 1"}
    differing = {f"differences_{c}" for c in instances if c == 1}  # the single run against itself: always 0, not shown
    return Row(
        key="scale_out", title="Alerts on 1 → 2 → 4 instances (one group, 6 partitions): backlog and day closes",
        size=f"{events} facts + {days} day closes, {' / '.join(map(str, instances))} instances",
        figures={name: Spread.of([r[name] for r in results]) for name in results[0] if name not in differing},
        units=units,
        note="each instance count on its own topics and database; the instances join the group before the backlog is produced; "
             "the day-close markers are produced directly (no contracts, orders or settlement service runs).",
    )


def main(events: Annotated[int, typer.Option()] = 2000, days: Annotated[int, typer.Option()] = 61,
         instances: Annotated[str, typer.Option()] = "1,2,4", runs: Annotated[int, typer.Option()] = 1) -> None:
    run_and_print(lambda: measure(runs, events, days, tuple(int(n) for n in instances.split(","))))


if __name__ == "__main__":
    typer.run(main)
