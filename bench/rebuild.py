"""Row (d): rebuilding the orders read models from the event store (``jicai-serve orders --rebuild-read-models``).

An orders database holding ``events`` acceptance events (recorded through
the HIS push use case, 1,000 lines a unit of work) is rebuilt with the code
path of ``--rebuild-read-models`` (``jicai_kit.serve.rebuild_read_models``).
The baseline reads and decodes the same events without projecting them
(``EventStore.read_all``), so the ratio shows what projecting costs.

    .venv/bin/python -m bench.rebuild [--events 20000] [--runs 1]
"""
from __future__ import annotations

import asyncio
import os
import time
from datetime import date
from typing import Annotated

import typer
from sqlalchemy import func, select

from bench.common import Row, postgres_base_url, repeat, run_and_print
from bench.his_push import seed_contract
from jicai_kit.serve import rebuild_read_models
from jicai_kit.services import service
from jicai_orders.adapters import repository as repo
from jicai_orders.adapters import tables as t
from jicai_orders.application import services
from jicai_orders.bootstrap import make_runtime
from jicai_orders.domain.acceptance import AcceptanceLine
from jicai_orders.settings import Settings
from tests.support import infra

URL_ENV = "JICAI_ORDERS_DATABASE_URL"


async def seed(url: str, events: int) -> None:
    runtime = make_runtime(Settings(database_url=url, run_workers=False))
    try:
        for start in range(0, events, 1000):
            lines = [
                AcceptanceLine(external_id=f"E{n}", contract_id="C1", accepted_quantity=10 + n % 7, rejected_quantity=0, rejection_reason=None,
                               accepted_on=date(2026, 9, 1 + n % 28), lot_number=f"LOT{n % 13}")
                for n in range(start, min(start + 1000, events))
            ]
            async with runtime.unit_of_work() as uow:
                await services.push_acceptances(uow, "H001", lines)
    finally:
        await runtime.stop()


async def scan(url: str) -> tuple[int, int]:
    """Read and decode every stored event (the baseline); returns (events, acceptance rows)."""
    runtime = make_runtime(Settings(database_url=url, run_workers=False))
    try:
        async with runtime.unit_of_work() as uow:
            count = 0
            async for stored in uow.events.read_all():
                repo.streams.codec.decode(stored.event_type, stored.data)
                count += 1
            rows = (await uow.session.execute(select(func.count()).select_from(t.acceptances))).scalar_one()
        return count, rows
    finally:
        await runtime.stop()


def measure(runs: int = 3, events: int = 20000) -> Row:
    url = infra.migrated_database(postgres_base_url(), "orders")
    previous = os.environ.get(URL_ENV)
    try:
        seed_contract(url)
        asyncio.run(seed(url, events))
        os.environ[URL_ENV] = url

        def once(_: int) -> dict[str, float]:
            started = time.perf_counter()
            replayed = asyncio.run(rebuild_read_models(service("orders")))
            rebuild_s = time.perf_counter() - started
            started = time.perf_counter()
            scanned, rows = asyncio.run(scan(url))
            scan_s = time.perf_counter() - started
            assert replayed == scanned == events + 1 and rows == events, (replayed, scanned, rows)
            return {"rebuild": replayed / rebuild_s, "scan": scanned / scan_s, "ratio": scan_s / rebuild_s}

        figures = repeat(runs, once)
    finally:
        if previous is None:
            os.environ.pop(URL_ENV, None)
        else:
            os.environ[URL_ENV] = previous
        infra.drop_database(url)
    return Row(
        key="rebuild", title="Rebuild of orders' read models (--rebuild-read-models)", size=f"{events + 1} events",
        figures=figures,
        units={"rebuild": "events/s replayed into read models", "scan": "events/s read and decoded only (baseline)", "ratio": "rebuild / scan"},
        note="the events are acceptances (one contract), the kind a province records by far the most of.",
    )


def main(events: Annotated[int, typer.Option()] = 20000, runs: Annotated[int, typer.Option()] = 1) -> None:
    run_and_print(lambda: measure(runs, events))


if __name__ == "__main__":
    typer.run(main)
