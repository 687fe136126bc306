"""The plans of the statements that decide a hospital's next acceptance, at its 100th and its 10,000th.

``alerts_history`` times each statement; this shows why one grows: one hospital's history is built through the
real consumer path (as ``alerts_history`` does) to each size, then the statements ``jicai_events.counted.lookup_many``
sends for the next acceptance's keys are run again under ``EXPLAIN (ANALYZE, BUFFERS)``, once as sent (psycopg binds
the arrays: a custom plan) and once as a generic plan (what a prepared statement may settle on after five
executions). The figures to compare are the buffers each node touched, which do not follow the machine's load.

    .venv/bin/python -m bench.history_plans [--sizes 100,10000] [--keep] [--database URL …] [--repeat 500]
"""
from __future__ import annotations

import asyncio
import re
import statistics
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.alerts_history import _acceptance, history_costs
from bench.common import postgres_base_url, stop_infrastructure
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.counted import key_of
from jicai_alerts.entrypoints.handlers import _acceptance_counted
from jicai_events import Envelope, counted
from tests.support import infra

_PARAMETER = re.compile(r"%\((\w+)\)s")


def numbered_parameters(statement: str) -> tuple[list[str], str]:
    """``%(name)s`` parameters (psycopg's) as ``$1``, ``$2`` … for ``PREPARE``: their names in order, and the text."""
    names = list(dict.fromkeys(_PARAMETER.findall(statement)))
    return names, _PARAMETER.sub(lambda m: f"${names.index(m.group(1)) + 1}", statement)


def text_array(values: list[str]) -> str:
    """An array literal of ``values`` (every parameter of a lookup is an array of text): ``EXECUTE``'s arguments are
    not bound parameters of a prepared statement, so PostgreSQL cannot infer their types."""
    return "ARRAY[" + ", ".join("'" + value.replace("'", "''") + "'" for value in values) + "]::text[]"


async def plans(url: str, acceptance: int, repeat: int) -> tuple[list[tuple[str, list[str], list[str]]], float]:
    """Each statement ``lookup_many`` sends for ``acceptance``'s keys (its text, its custom plan, its generic plan),
    and the median milliseconds of ``lookup_many`` itself over ``repeat`` calls (prepared by psycopg, as in the service)."""
    fact = _acceptance(acceptance)
    accepted = _acceptance_counted(Envelope.wrap(fact, time=datetime.now(UTC)), fact)
    keys = [key for fact in (accepted.winning, accepted.volume, accepted.purchase) if (key := key_of(fact)) is not None]
    engine = create_async_engine(url)
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: dict[str, Any], *_: Any) -> None:
        sent.append((statement, parameters))

    found: list[tuple[str, list[str], list[str]]] = []
    try:
        async with AsyncSession(engine) as session:
            event.listen(engine.sync_engine, "before_cursor_execute", record)
            await counted.lookup_many(session, t.counted_facts, t.event_tables.event_store, keys)
            event.remove(engine.sync_engine, "before_cursor_execute", record)
            connection = await session.connection()
            for statement, parameters in sent:
                custom = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                names, numbered = numbered_parameters(statement)
                await connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
                await connection.exec_driver_sql(f"PREPARE lookup AS {numbered}")
                arguments = ", ".join(text_array(parameters[name]) for name in names)
                generic = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE lookup({arguments})")
                await connection.exec_driver_sql("DEALLOCATE lookup")
                await connection.exec_driver_sql("RESET plan_cache_mode")
                found.append((statement, [row[0] for row in custom], [row[0] for row in generic]))
            took = []
            for _ in range(repeat):
                started = time.perf_counter()
                await counted.lookup_many(session, t.counted_facts, t.event_tables.event_store, keys)
                took.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return found, statistics.median(took) * 1000


def main(sizes: Annotated[str, typer.Option(help="hospital history sizes, comma-separated")] = "100,10000",
         keep: Annotated[bool, typer.Option(help="keep each history's database (its URL is printed) for another run's --database")] = False,
         database: Annotated[list[str] | None, typer.Option(help="a kept database per size, in order: no history built")] = None,
         repeat: Annotated[int, typer.Option(help="calls of lookup_many timed at each size")] = 500) -> None:
    try:
        for i, size in enumerate(int(s) for s in sizes.split(",")):
            url = database[i] if database else infra.migrated_database(postgres_base_url(), "alerts")
            try:
                if not database:
                    history_costs(url, size)
                found, median_ms = asyncio.run(plans(url, size + 1, repeat))
                print(f"=== after {size} acceptances: lookup_many of the next acceptance's keys, median of {repeat}: {median_ms:.3f} ms")
                for statement, custom, generic in found:
                    print(f"=== after {size} acceptances: {' '.join(statement.split())}")
                    print("--- custom plan (as sent)\n" + "\n".join(custom))
                    print("--- generic plan\n" + "\n".join(generic))
            finally:
                if keep or database:
                    print(f"kept: {url}")
                else:
                    infra.drop_database(url)
    finally:
        if not keep:
            stop_infrastructure()


if __name__ == "__main__":
    typer.run(main)
