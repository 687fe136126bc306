"""CPU per request of the servers, which follows the code more than the machine's load does.

A HIS push of 4 clients × ``batches`` × 1,000 new lines (CPU per line), then a
single-line HIS push (orders) and a settlement-status read (settlement), each
at a fixed rate below saturation (open loop, ``bench.latency.open_loop``) for
``seconds``: the server process's CPU (``/proc/<pid>/stat``, user + system) and
PostgreSQL's (every backend of the bench cluster) around the run, divided by
the requests answered. ``--profile DIR`` records each server with py-spy
(``record -r 100 -f raw``) instead of reading its CPU alone.

    .venv/bin/python -m bench.request_cpu [--rate 50] [--seconds 15] [--profile DIR]
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bench.common import BENCH_RUN_DIR, load_average, postgres_base_url, serve
from bench.his_push import INSTITUTION, batch_body, push_all, seed_contract
from bench.latency import _line, _status, open_loop
from jicai_kit.auth import Role
from tests.support import infra
from tests.support.tokens import bearer

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def postgres_cpu() -> float:
    """CPU of the bench cluster's postmaster and every backend it forked (their connections stay pooled)."""
    postmaster = int((BENCH_RUN_DIR / "postgres" / "data" / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry.name) == postmaster or int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def measure(rate: int, seconds: float, profile: Path | None, batches: int = 2) -> None:
    base = postgres_base_url()
    orders_db = infra.migrated_database(base, "orders")
    settlement_db = infra.migrated_database(base, "settlement")
    his, operator = bearer(INSTITUTION, Role.INSTITUTION), bearer("OPS", Role.OPERATOR)
    try:
        seed_contract(orders_db)
        with serve("orders", orders_db) as orders, serve("settlement", settlement_db) as settlement:
            tag = f"CPU{time.monotonic_ns() % 10**8}"
            runs = {
                "push": (orders, his, lambda c, i: _status(c.post(f"/institutions/{INSTITUTION}/acceptances:batch", json={"lines": [_line(tag, i)]}))),
                "status": (settlement, operator, lambda c, _: _status(c.get(f"/institutions/{INSTITUTION}/settlement-status"))),
            }
            bodies = [[batch_body(f"{tag}-C{c}-B{b}", 1000) for b in range(batches)] for c in range(4)]
            asyncio.run(push_all(orders.url, [[batch_body(f"{tag}-warm", 1000)]], "accepted"))
            before, pg_before, load = cpu_seconds(orders.pid), postgres_cpu(), load_average()
            wall = asyncio.run(push_all(orders.url, bodies, "accepted"))
            lines, server, pg = 4 * batches * 1000, cpu_seconds(orders.pid) - before, postgres_cpu() - pg_before
            print(f"batch push: {lines} new lines in {wall:.1f} s ({lines / wall:,.0f} lines/s); server CPU {server / lines * 1e6:.0f} µs/line, "
                  f"PostgreSQL CPU {pg / lines * 1e6:.0f} µs/line; load {load}", flush=True)
            for name, (served, token, send) in runs.items():
                asyncio.run(open_loop(served.url, token, send, rate, 2.0))  # warm: the token kept, statements prepared
                spy = None
                if profile is not None:
                    profile.mkdir(parents=True, exist_ok=True)
                    spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record", "-r", "100", "-f", "raw", "-p", str(served.pid),
                                            "-o", str(profile / f"{name}.txt"), "-d", str(int(seconds) + 1)], stdout=subprocess.DEVNULL)
                    time.sleep(1.0)
                before, pg_before, load = cpu_seconds(served.pid), postgres_cpu(), load_average()
                figures = asyncio.run(open_loop(served.url, token, send, rate, seconds))
                server, pg = cpu_seconds(served.pid) - before, postgres_cpu() - pg_before
                answered = figures["throughput"] * seconds
                print(f"{name}: {answered:.0f} answered ({figures['errors']:.0f} errors), p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms; "
                      f"server CPU {server / answered * 1000:.2f} ms/request, PostgreSQL CPU {pg / answered * 1000:.2f} ms/request; load {load}",
                      flush=True)
                if spy is not None:
                    spy.wait()
    finally:
        infra.drop_database(orders_db)
        infra.drop_database(settlement_db)


def main(
    rate: Annotated[int, typer.Option()] = 50, seconds: Annotated[float, typer.Option()] = 15.0,
    profile: Annotated[Path | None, typer.Option(help="record each server with py-spy into this directory")] = None,
    batches: Annotated[int, typer.Option(help="1,000-line batches per client (4 clients)")] = 2,
) -> None:
    measure(rate, seconds, profile, batches)


if __name__ == "__main__":
    typer.run(main)
