"""Row (e): single-line HIS pushes and settlement-status reads at a fixed rate, against a bare FastAPI endpoint.

Open loop: request i is sent at start + i / rate whatever happened before,
and its latency counts from that scheduled moment (so a stalled server
cannot hide its queue). Orders and settlement run as deployed
(``jicai-serve``, no workers), the baseline is ``bench.bare_app`` under the
same uvicorn; each endpoint gets the rate alone for ``seconds``.

    .venv/bin/python -m bench.latency [--rate 200] [--seconds 20] [--runs 1]
"""
from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Annotated

import aiohttp
import typer

from bench.common import Row, api_processes, postgres_base_url, repeat, run_and_print, serve, serve_process
from bench.his_push import INSTITUTION, seed_contract
from jicai_kit.auth import Role
from tests.support import infra
from tests.support.tokens import bearer

Send = Callable[[aiohttp.ClientSession, int], Awaitable[int]]
"""Sends request ``i``; returns its HTTP status."""


async def open_loop(url: str, token: str, send: Send, rate: int, seconds: float, connections: int = 32) -> dict[str, float]:
    """p50/p99 latency (ms) of the answered requests, errors, and answered requests per second.

    ``connections`` keep-alive connections take the requests in schedule
    order (as a client's connection pool would); a request sent late because
    all were busy still counts from its scheduled moment. Bounded: requests
    not sent within twice ``seconds`` are never sent and count as errors.
    aiohttp rather than httpx: on this machine httpx's async pool answered a
    quarter of the requests per second aiohttp does against the same server,
    which would have measured the client.
    """
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    next_index = 0
    session = aiohttp.ClientSession(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=30),
    )
    async with session:
        start = loop.time() + 0.2
        give_up = start + 2 * seconds

        async def connection() -> None:
            nonlocal errors, next_index
            while next_index < total and loop.time() < give_up:
                i, next_index = next_index, next_index + 1
                due = start + i / rate
                await asyncio.sleep(max(0.0, due - loop.time()))
                try:
                    ok = await send(session, i) < 400
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    latencies.append(loop.time() - due)
                else:
                    errors += 1

        await asyncio.gather(*(connection() for _ in range(connections)))
        elapsed = loop.time() - start
        errors += total - next_index
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"p50": cut[49] * 1000, "p99": cut[98] * 1000, "errors": float(errors), "throughput": len(latencies) / elapsed}


def _line(tag: str, i: int) -> dict[str, object]:
    return {"external_id": f"{tag}-{i}", "contract_id": "C1", "accepted_quantity": 10, "rejected_quantity": 0,
            "accepted_on": "2026-09-01", "lot_number": "LOT1"}


async def _status(request: AbstractAsyncContextManager[aiohttp.ClientResponse]) -> int:
    async with request as response:
        await response.read()
        return response.status


def measure(runs: int = 3, rate: int = 200, seconds: float = 20.0) -> Row:
    base = postgres_base_url()
    orders_db = infra.migrated_database(base, "orders")
    settlement_db = infra.migrated_database(base, "settlement")
    env: dict[str, str] = {}  # the services trust the run's development key (tests.support.tokens)
    his = bearer(INSTITUTION, Role.INSTITUTION)
    operator = bearer("OPS", Role.OPERATOR)
    bare_argv = lambda port: [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port), "--log-level", "info"]  # noqa: E731
    try:
        seed_contract(orders_db)
        with serve("orders", orders_db, env) as orders, serve("settlement", settlement_db, env) as settlement, \
                serve_process("bare", bare_argv, {}) as (bare, _):
            def once(run: int) -> dict[str, float]:
                tag = f"R{run}-{time.monotonic_ns() % 10**8}"
                push = asyncio.run(open_loop(orders.url, his, lambda c, i: _status(
                    c.post(f"/institutions/{INSTITUTION}/acceptances:batch", json={"lines": [_line(tag, i)]})), rate, seconds))
                status = asyncio.run(open_loop(
                    settlement.url, operator, lambda c, _: _status(c.get(f"/institutions/{INSTITUTION}/settlement-status")), rate, seconds))
                bare_push = asyncio.run(open_loop(bare, his, lambda c, i: _status(c.post("/push", json={"lines": [_line(tag, i)]})), rate, seconds))
                return {
                    "push_p99": push["p99"], "push_p50": push["p50"], "push_errors": push["errors"], "push_rps": push["throughput"],
                    "status_p99": status["p99"], "status_errors": status["errors"], "status_rps": status["throughput"],
                    "bare_p99": bare_push["p99"], "bare_rps": bare_push["throughput"],
                }

            figures = repeat(runs, once)
    finally:
        infra.drop_database(orders_db)
        infra.drop_database(settlement_db)
    return Row(
        key="latency", title=f"Single requests at {rate} req/s (open loop) vs bare FastAPI",
        size=f"{rate} req/s × {seconds:g} s per endpoint, {api_processes()}",
        figures=figures,
        units={
            "push_p99": "ms p99, single-line HIS push", "push_p50": "ms p50, single-line HIS push", "push_errors": "errors, HIS push",
            "push_rps": "answered/s, HIS push", "status_p99": "ms p99, settlement-status read", "status_errors": "errors, settlement-status",
            "status_rps": "answered/s, settlement-status", "bare_p99": "ms p99, bare FastAPI POST (baseline)",
            "bare_rps": "answered/s, bare FastAPI (baseline)",
        },
        note="the load generator runs on the same two cores as the servers and PostgreSQL.",
    )


def main(rate: Annotated[int, typer.Option()] = 200, seconds: Annotated[float, typer.Option()] = 20.0, runs: Annotated[int, typer.Option()] = 1) -> None:
    run_and_print(lambda: measure(runs, rate, seconds))


if __name__ == "__main__":
    typer.run(main)
