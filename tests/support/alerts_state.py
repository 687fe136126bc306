"""What alerts has decided, read from its database in a form two stores can be compared in (event ids aside)."""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from jicai_alerts.adapters.repository import invoice_lock


def rows(url: str, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(query).fetchall()


def decided_state(url: str) -> dict[str, Any]:
    """Everything a day close decides, with this store's event ids named by stream and version (each store gives its own)."""
    names = {event_id: f"{stream}#{version}" for stream, version, event_id in rows(url, "SELECT stream_id, version, event_id FROM event_store")}

    def named(value: Any) -> Any:
        if isinstance(value, str):
            return names.get(value, value)
        if isinstance(value, list):
            return [named(v) for v in value]
        if isinstance(value, dict):
            return {k: named(v) for k, v in value.items()}
        return value

    outbox = [json.loads(bytes(payload)) for (payload,) in rows(url, "SELECT payload FROM outbox")]
    return {
        "streams": [named([s, v, ty, d]) for s, v, ty, d in rows(
            url, "SELECT stream_id, version, event_type, data FROM event_store WHERE stream_type <> 'clock' ORDER BY stream_id, version"
        )],
        "clock": rows(url, "SELECT last_closed_on, day_closed_event_id FROM clock"),
        "invoices": rows(url, "SELECT * FROM invoices ORDER BY invoice_id"),
        "decisions": [named(list(r)) for r in rows(url, "SELECT * FROM decisions ORDER BY decision_id")],
        "alerts": rows(url, "SELECT * FROM alerts ORDER BY alert_id"),
        "blocked": rows(url, "SELECT invoice_id, first_blocked_on, last_tried_on, reason FROM blocked_decisions ORDER BY 1"),
        "outbox": sorted(
            (json.dumps(named([o["id"], o["type"], o["partitionkey"], o["data"]]), sort_keys=True) for o in outbox),
        ),
    }


@contextmanager
def holding_invoices(url: str, invoice_ids: list[str]) -> Iterator[Callable[[], None]]:
    """Hold the advisory locks a day close's chunk (or a payment) takes for ``invoice_ids`` (``repository.lock_many``)
    until the returned release: a chunk holding one of them waits, so a close stops there, deterministically."""
    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    keys = sorted(invoice_lock(i) for i in invoice_ids)
    conn.execute("SELECT count(pg_advisory_lock(hashtextextended(k, 0))) FROM unnest(%s::text[]) AS k", (keys,))
    try:
        yield conn.close
    finally:
        conn.close()
