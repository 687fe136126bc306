"""Row (a): HIS acceptance pushes through HTTP into the orders event store, against COPY of the same rows.

The orders service runs as deployed (``jicai-serve orders``, its own process,
loopback HTTP); ``clients`` concurrent HIS clients each push ``batches``
batches of ``lines`` new lines (each line its own stream, read-model row and
outbox row). The baseline then COPYs exactly the rows the push wrote
(event store, acceptances, outbox) into an empty migrated orders database on
the same PostgreSQL, in the same batches, from the same number of
connections, one transaction per batch. Retrying every batch (all
duplicates) is measured too.

    .venv/bin/python -m bench.his_push [--clients 4] [--batches 3] [--lines 1000] [--runs 3]
"""
from __future__ import annotations

import asyncio
import io
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import httpx
import psycopg
import typer

from bench.common import Row, api_processes, postgres_base_url, repeat, run_and_print, serve
from jicai_kit.auth import Role
from jicai_orders.application import services
from jicai_orders.bootstrap import make_runtime
from jicai_orders.domain.events import ContractRecorded
from jicai_orders.settings import Settings
from tests.support import infra
from tests.support.tokens import auth_header

INSTITUTION = "H001"
TABLES = {
    "event_store": "stream_id, stream_type, version, event_id, event_type, data, metadata",
    "acceptances": "acceptance_id, institution_id, external_id, contract_id, product_id, distributor_id, manufacturer_id, pooling_region_code, "
    "accepted_quantity, rejected_quantity, rejection_reason, accepted_on, lot_number, unit_price, accepted_amount, invoiced_quantity, channel, "
    "order_id, returned_quantity",
    "outbox": "event_id, topic, message_key, payload",
}
ORDER_BY = {"event_store": "global_position", "acceptances": "acceptance_id", "outbox": "id"}


def seed_contract(database_url: str) -> None:
    async def run() -> None:
        runtime = make_runtime(Settings(database_url=database_url, run_workers=False))
        try:
            async with runtime.unit_of_work() as uow:
                await services.record_contract(uow, ContractRecorded(
                    contract_id="C1", institution_id=INSTITUTION, pooling_region_code="520100", manufacturer_id="M1", distributor_id="D1",
                    product_id="P1", unit_price=Decimal("1.9800"), agreed_quantity=10**12, cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31),
                ))
        finally:
            await runtime.stop()

    asyncio.run(run())


def batch_body(tag: str, lines: int) -> dict[str, Any]:
    return {"lines": [
        {"external_id": f"{tag}-L{i}", "contract_id": "C1", "accepted_quantity": 10 + i % 7, "rejected_quantity": 0,
         "accepted_on": "2026-09-01", "lot_number": f"LOT{i % 13}"}
        for i in range(lines)
    ]}


async def push_all(url: str, bodies: list[list[dict[str, Any]]], expect: str) -> float:
    """Each client pushes its bodies one after the other; all clients at once. Returns wall seconds."""
    headers = auth_header(INSTITUTION, Role.INSTITUTION)

    async def client(mine: list[dict[str, Any]]) -> None:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=300) as http:
            for body in mine:
                r = await http.post(f"/institutions/{INSTITUTION}/acceptances:batch", json=body)
                r.raise_for_status()
                counted = r.json()[expect]
                if counted != len(body["lines"]):
                    raise AssertionError(f"{expect}: {counted} of {len(body['lines'])}: {r.text[:300]}")

    started = time.perf_counter()
    await asyncio.gather(*(client(mine) for mine in bodies))
    return time.perf_counter() - started


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def dump_rows(database_url: str, tag: str) -> dict[str, list[bytes]]:
    """The rows the run wrote, per table, in COPY text format (one line per row)."""
    where = {
        "event_store": f"stream_id LIKE 'acceptance-{INSTITUTION}-{tag}-%'",
        "acceptances": f"external_id LIKE '{tag}-%'",
        "outbox": f"message_key = '{INSTITUTION}' AND event_id IN (SELECT event_id FROM event_store WHERE stream_id LIKE 'acceptance-{INSTITUTION}-{tag}-%')",
    }
    out: dict[str, list[bytes]] = {}
    with psycopg.connect(_libpq(database_url)) as conn, conn.cursor() as cur:
        for table, columns in TABLES.items():
            buf = io.BytesIO()
            with cur.copy(f"COPY (SELECT {columns} FROM {table} WHERE {where[table]} ORDER BY {ORDER_BY[table]}) TO STDOUT") as copy:
                for data in copy:
                    buf.write(data)
            out[table] = buf.getvalue().splitlines(keepends=True)
    return out


def copy_rows(scratch_url: str, rows: dict[str, list[bytes]], clients: int, lines: int) -> float:
    """COPY the rows into the scratch database: batches of ``lines`` per table, ``clients`` connections. Wall seconds."""
    total = len(rows["event_store"])
    batches = [
        {table: b"".join(rows[table][start:start + lines]) for table in TABLES}
        for start in range(0, total, lines)
    ]
    conns = [psycopg.connect(_libpq(scratch_url)) for _ in range(clients)]
    try:
        def work(k: int) -> None:
            conn = conns[k]
            for batch in batches[k::clients]:
                with conn.transaction(), conn.cursor() as cur:
                    for table, columns in TABLES.items():
                        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                            copy.write(batch[table])

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(work, range(clients)))
        return time.perf_counter() - started
    finally:
        for conn in conns:
            conn.close()


def truncate(scratch_url: str) -> None:
    with psycopg.connect(_libpq(scratch_url), autocommit=True) as conn:
        conn.execute("TRUNCATE event_store, acceptances, outbox")


def measure(runs: int = 3, clients: int = 4, batches: int = 3, lines: int = 1000) -> Row:
    base = postgres_base_url()
    url = infra.migrated_database(base, "orders")
    scratch = infra.migrated_database(base, "orders")
    try:
        seed_contract(url)
        with serve("orders", url) as orders:
            def once(run: int) -> dict[str, float]:
                tag = f"R{run}-{time.monotonic_ns() % 10**8}"
                bodies = [[batch_body(f"{tag}-C{c}-B{b}", lines) for b in range(batches)] for c in range(clients)]
                new_s = asyncio.run(push_all(orders.url, bodies, "accepted"))
                retry_s = asyncio.run(push_all(orders.url, bodies, "duplicates"))
                rows = dump_rows(url, tag)
                assert all(len(r) == clients * batches * lines for r in rows.values()), {t: len(r) for t, r in rows.items()}
                truncate(scratch)
                copy_s = copy_rows(scratch, rows, clients, lines)
                n = clients * batches * lines
                return {"push": n / new_s, "retry": n / retry_s, "copy": n / copy_s, "ratio": copy_s / new_s}

            figures = repeat(runs, once)
    finally:
        infra.drop_database(url)
        infra.drop_database(scratch)
    return Row(
        key="his_push", title="HIS push through HTTP (new lines) vs COPY of the same rows",
        size=f"{clients} clients × {batches} batches × {lines} lines, {api_processes()}", figures=figures,
        units={"push": "lines/s", "retry": "lines/s (retried, all duplicates)", "copy": "rows/s per table (COPY)", "ratio": "push / COPY"},
    )


def main(
    clients: Annotated[int, typer.Option()] = 4, batches: Annotated[int, typer.Option()] = 3,
    lines: Annotated[int, typer.Option()] = 1000, runs: Annotated[int, typer.Option()] = 3,
) -> None:
    run_and_print(lambda: measure(runs, clients, batches, lines))


if __name__ == "__main__":
    typer.run(main)
