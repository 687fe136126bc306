"""Row ``rebuild``: every service's read models rebuilt from its event store (``jicai-serve SERVICE --rebuild-read-models``).

A province slice is recorded through each service's real code path, on a
fresh database per service: contracts registers institutions through its
API; orders records a contract and a HIS push of acceptance lines; settlement
and alerts consume the matching facts (the contract, winning product, the
acceptances, non-winning purchases, invoices) through their consumers. Each
event store is then multiplied by COPY: copy ``k`` of every stored event, with
every identifier in it (a ``*_id`` field, the stream id) suffixed ``.k``, is
the same slice for other hospitals, contracts and invoices, so the services
keep the proportions a province records (acceptances first) and the read
models grow with the copies. The four services are rebuilt at once, each in its own process with the code
path of ``--rebuild-read-models`` (``jicai_kit.serve.rebuild_read_models``), as
an operator rebuilding everything runs the four commands (each service owns its
database); the baseline reads and decodes the same events as the rebuilds do,
without projecting them (``EventStore.read_all_json``, ``EventCodec.decode_json``),
the four at once too, in the same run. Then each service is rebuilt alone. The main read model of each
service must hold exactly the copies' rows afterwards.

    .venv/bin/python -m bench.rebuild [--events 50000] [--runs 1]
"""
from __future__ import annotations

import asyncio
import importlib
import json
import multiprocessing
import os
import queue
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier as BarrierType
from typing import Annotated, Any

import psycopg
import typer
from fastapi.testclient import TestClient

from bench.alerts_history import _acceptance, _purchase
from bench.common import Row, Spread, postgres_base_url, run_and_print
from bench.facts import invoice
from bench.his_push import seed_contract
from jicai_contracts.entrypoints.app import build_app as contracts_app
from jicai_contracts.settings import Settings as ContractsSettings
from jicai_events import Envelope, IntegrationEvent
from jicai_events.catalog import ContractSigned, WinningProductListed
from jicai_kit.auth import Role
from jicai_kit.serve import rebuild_read_models
from jicai_kit.services import service
from jicai_orders.application import services
from jicai_orders.bootstrap import make_runtime
from jicai_orders.domain.acceptance import AcceptanceLine
from jicai_orders.settings import Settings as OrdersSettings
from tests.support import infra
from tests.support.tokens import auth_header

SERVICES = ("contracts", "orders", "settlement", "alerts")
ACCEPTANCES, INVOICES, INSTITUTIONS = 200, 50, 5
"""One slice: a hospital's acceptance lines, invoices and the institutions contracts registers."""
MAIN_READ_MODEL = {"contracts": "institutions", "orders": "acceptances", "settlement": "invoices", "alerts": "invoices"}
"""A read model per service whose rows all come from renamed identifiers: it must hold the slice's rows times the copies."""
MARK = ".@copy"
"""Put after every identifier of the slice, replaced by the copy's number."""


def _facts() -> list[IntegrationEvent]:
    """The facts settlement and alerts consume for one slice (alerts_history's hospital H001 on contract C1)."""
    signed = ContractSigned(
        contract_id="C1", institution_id="H001", pooling_region_code="520100", manufacturer_id="M001", distributor_id="D001",
        product_id="P1", unit_price=Decimal("1.9800"), agreed_quantity=100_000, cycle_start=date(2026, 1, 1),
        cycle_end=date(2026, 12, 31), signed_on=date(2026, 1, 1),
    )
    listed = WinningProductListed(
        product_id="P1", batch_id="B1", generic_name="阿莫西林", dosage_form="胶囊", specification="0.25g", manufacturer_id="M001",
        winning_unit_price=Decimal("1.9800"), trading_unit="盒", generic_group_id="G1", base_units_per_trading_unit=Decimal("10"),
    )
    facts: list[IntegrationEvent] = [signed, listed]
    for n in range(1, ACCEPTANCES + 1):
        facts.append(_acceptance(n))
        if n % 20 == 0:
            facts.append(_purchase(n))
    return facts + [invoice(n) for n in range(INVOICES)]


def _consume(name: str, url: str, specs: list[str], facts: list[IntegrationEvent]) -> None:
    """``facts`` through the service's consumers named ``specs`` (those subscribing to a fact's type take it), in-process."""
    package = f"jicai_{name}"
    app = importlib.import_module(f"{package}.entrypoints.app").build_app(
        importlib.import_module(f"{package}.settings").Settings(database_url=url, run_workers=False)
    )
    bootstrap = importlib.import_module(f"{package}.bootstrap")
    now = datetime.now(UTC)
    envelopes = [Envelope.wrap(f, time=now) for f in facts]
    with TestClient(app) as client:
        assert client.portal is not None
        for spec in specs:
            consumer = app.state.runtime.event_consumer(getattr(bootstrap, spec))
            outcomes = client.portal.call(consumer.deliver_many, envelopes)
            assert set(outcomes) <= {"handled", "ignored"}, set(outcomes)


def _register_institutions(url: str) -> None:
    with TestClient(contracts_app(ContractsSettings(database_url=url, run_workers=False))) as client:
        for n in range(INSTITUTIONS):
            body = {"institution_id": f"H{n:03d}", "name": f"医院{n}", "pooling_region_code": "520100", "county_code": "520102"}
            assert client.post("/institutions", json=body, headers=auth_header("OPS", Role.OPERATOR)).status_code == 201


def _push_acceptances(url: str) -> None:
    async def run() -> None:
        runtime = make_runtime(OrdersSettings(database_url=url, run_workers=False))
        try:
            lines = [
                AcceptanceLine(external_id=f"E{n}", contract_id="C1", accepted_quantity=10 + n % 7, rejected_quantity=0, rejection_reason=None,
                               accepted_on=date(2026, 9, 1 + n % 28), lot_number=f"LOT{n % 13}")
                for n in range(ACCEPTANCES)
            ]
            async with runtime.unit_of_work() as uow:
                await services.push_acceptances(uow, "H001", lines, lambda _region: None)  # seeded dates: nothing to refuse
        finally:
            await runtime.stop()

    seed_contract(url)
    asyncio.run(run())


SLICES: dict[str, Callable[[str], None]] = {
    "contracts": _register_institutions,
    "orders": _push_acceptances,
    "settlement": lambda url: _consume("settlement", url, ["CONTRACTS_FACTS", "INVOICES"], _facts()),
    "alerts": lambda url: _consume("alerts", url, ["RULES"], _facts()),
}


def _marked(value: Any, key: str = "") -> Any:
    """``value`` with every identifier (a ``*_id``/``*_ids`` field, at any depth) followed by MARK."""
    if isinstance(value, dict):
        return {k: _marked(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v, key) for v in value]
    if isinstance(value, str) and (key.endswith("_id") or key.endswith("_ids")):
        return value + MARK
    return value


def multiply(dsn: str, copies: int) -> tuple[int, int]:
    """Add copies 1..copies-1 of the stored slice with COPY; (events stored now, seconds taken)."""
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        slice_ = cur.execute(
            "SELECT stream_id, stream_type, version, event_type, data, metadata FROM event_store ORDER BY global_position"
        ).fetchall()
        templates = [(s + MARK, st, v, et, json.dumps(_marked(d), ensure_ascii=False), json.dumps(m)) for s, st, v, et, d, m in slice_]
        with cur.copy("COPY event_store (stream_id, stream_type, version, event_id, event_type, data, metadata) FROM STDIN") as copy:
            for k in range(1, copies):
                suffix = f".{k}"
                for stream, stream_type, version, event_type, data, metadata in templates:
                    copy.write_row((stream.replace(MARK, suffix), stream_type, version, str(uuid.uuid4()), event_type,
                                    data.replace(MARK, suffix), metadata))
        cur.execute("ANALYZE event_store")
        return len(slice_) * copies, round(time.perf_counter() - started)


def count_rows(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 - a table name of ours
    assert row is not None
    return int(row[0])


@contextmanager
def database_env(name: str, url: str) -> Iterator[None]:
    """``JICAI_<SERVICE>_DATABASE_URL`` set for the rebuild (it reads its settings like ``jicai-serve``)."""
    key = f"JICAI_{name.upper()}_DATABASE_URL"
    previous = os.environ.get(key)
    os.environ[key] = url
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = previous


async def scan(name: str) -> int:
    """Read and decode every stored event of the service (the baseline); how many."""
    found = service(name)
    bootstrap = found.bootstrap()
    codec = importlib.import_module(f"{found.package}.adapters.repository").streams.codec
    runtime = bootstrap.make_runtime(bootstrap.load_settings())
    try:
        async with runtime.unit_of_work() as uow:
            count = 0
            async for stored in uow.events.read_all_json():  # as the rebuild reads them
                count += len([codec.decode_json(row[0], row[1]) for row in stored])  # type, data (and the id, unused)
        return count
    finally:
        await runtime.stop()


def _timed(kind: str, name: str, url: str, start: BarrierType, finished: Queue[tuple[str, int, float]]) -> None:
    """In a process of its own: once every process is ready, ``kind`` ("rebuild" or "scan") the service's events;
    tell ``finished`` how many and when (``time.monotonic``, one clock for every process)."""
    os.environ[f"JICAI_{name.upper()}_DATABASE_URL"] = url
    found = service(name)
    for module in ("bootstrap", "adapters.repository", "adapters.tables"):  # imported before the start, as the docstring of at_once says
        importlib.import_module(f"{found.package}.{module}")
    work = rebuild_read_models(found) if kind == "rebuild" else scan(name)
    start.wait()
    count = asyncio.run(work)
    finished.put((name, count, time.monotonic()))


def at_once(kind: str, urls: dict[str, str]) -> tuple[dict[str, int], float]:
    """Every service's ``kind`` at the same time, each in its own process as an operator runs the four commands
    (``jicai-serve SERVICE --rebuild-read-models``: each service its own database, sharing nothing); the events of each,
    and the seconds from the start to the last one done (imports and start-up left out, as for one alone)."""
    spawn = multiprocessing.get_context("spawn")
    start, finished = spawn.Barrier(len(urls) + 1), spawn.Queue()
    processes = [spawn.Process(target=_timed, args=(kind, name, url, start, finished)) for name, url in urls.items()]
    for process in processes:
        process.start()
    start.wait(timeout=600)
    began = time.monotonic()
    done: list[tuple[str, int, float]] = []
    while len(done) < len(processes):
        try:
            done.append(finished.get(timeout=1))
        except queue.Empty:
            failed = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            assert not failed, f"{kind}: a process failed ({failed})"
    for process in processes:
        process.join()
    return {name: count for name, count, _ in done}, max(at for _, _, at in done) - began


def measure(runs: int = 1, events: int = 1_000_000) -> Row:
    """Rebuild every service's read models from about ``events`` events in all (whole slices): the four at once,
    then each alone."""
    base = postgres_base_url()
    urls = {name: infra.migrated_database(base, name) for name in SERVICES}
    dsns = {name: url.replace("postgresql+psycopg://", "postgresql://") for name, url in urls.items()}
    try:
        for name in SERVICES:
            SLICES[name](urls[name])
        per_slice = {name: count_rows(dsns[name], "event_store") for name in SERVICES}
        main_rows = {name: count_rows(dsns[name], MAIN_READ_MODEL[name]) for name in SERVICES}
        copies = max(events // sum(per_slice.values()), 1)
        stored = {name: multiply(dsns[name], copies)[0] for name in SERVICES}
        total = sum(stored.values())

        def check(name: str, replayed: int) -> None:
            assert replayed == stored[name], (name, replayed, stored[name])
            rows = count_rows(dsns[name], MAIN_READ_MODEL[name])
            assert rows == main_rows[name] * copies, (name, MAIN_READ_MODEL[name], rows, main_rows[name], copies)

        results: list[dict[str, float]] = []
        for _ in range(runs):
            replayed, rebuild_s = at_once("rebuild", urls)
            for name in SERVICES:
                check(name, replayed[name])
            scanned, scan_s = at_once("scan", urls)
            assert scanned == stored, (scanned, stored)
            figures = {"rebuild": total / rebuild_s, "scan": total / scan_s, "ratio": scan_s / rebuild_s}
            alone_s = 0.0
            for name in SERVICES:
                with database_env(name, urls[name]):
                    started = time.perf_counter()
                    count = asyncio.run(rebuild_read_models(service(name)))
                    took = time.perf_counter() - started
                check(name, count)
                figures[f"rebuild_{name}"] = count / took
                alone_s += took
            figures["one_after_another"] = total / alone_s
            results.append(figures)
    finally:
        for url in urls.values():
            infra.drop_database(url)
    shares = ", ".join(f"{name} {stored[name]:,}" for name in SERVICES)
    return Row(
        key="rebuild", title="Rebuild of every service's read models (--rebuild-read-models)", size=f"{total:,} events ({shares})",
        figures={name: Spread.of([r[name] for r in results]) for name in results[0]},
        units={"rebuild": "events/s replayed into read models, the four services at once",
               "scan": "events/s read and decoded only, the four at once (baseline)", "ratio": "rebuild / scan",
               "one_after_another": "events/s replayed, the services one after another",
               **{f"rebuild_{name}": f"events/s replayed, {name} alone" for name in SERVICES}},
        note=f"{copies:,} copies of one slice recorded through each service's real path ({ACCEPTANCES} acceptance lines of a hospital, "
             f"{ACCEPTANCES // 20} non-winning purchases, {INVOICES} invoices, {INSTITUTIONS} institutions), identifiers renamed per copy; "
             "each service's main read model checked to hold every copy's rows. The four services rebuild at once, each in its own "
             "process (as an operator runs the four commands: each service has its own database), then each alone.",
    )


def main(events: Annotated[int, typer.Option()] = 50_000, runs: Annotated[int, typer.Option()] = 1) -> None:
    run_and_print(lambda: measure(runs, events))


if __name__ == "__main__":
    typer.run(main)
