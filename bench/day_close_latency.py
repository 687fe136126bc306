"""What the watermark costs a day close: from ``POST /clock/days`` to alerts having decided the day.

The whole system runs as deployed (four services, real Kafka and PostgreSQL,
as the e2e tests start it). Each day is closed alone and waited for, so the
figure is the latency of one close: DayClosed → every producer's clock
consumer → its outbox marker on every partition → its relay → alerts reads
every marker → decides. The baseline in the same run is the time the same
DayClosed takes to reach a bare consumer of the clock topic (what deciding on
arrival, without waiting for the facts, would cost). Then ``--ranges`` closes of
several days at once (a scheduler catching up, a test moving time): from the
request to alerts having decided the last of them.

    python -m bench.day_close_latency --days 20 --ranges 10,60,120
"""
from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from datetime import date, timedelta
from functools import partial

import httpx
from aiokafka import AIOKafkaConsumer

from jicai_events.topics import CLOCK
from jicai_kit.auth import Role
from tests.e2e.system import eventually, start_system
from tests.support import infra


def _decided(url: str) -> date | None:
    clock = httpx.get(f"{url}/clock", timeout=10).json()
    return date.fromisoformat(clock["last_closed_on"]) if clock["last_closed_on"] else None


def _decided_on(url: str, day: date) -> bool:
    return _decided(url) == day


async def _arrival_ms(bootstrap: str, topic: str, send: object) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:6]}", auto_offset_reset="latest")
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)  # joined and positioned at the end
        started = time.perf_counter()
        await asyncio.to_thread(send)  # type: ignore[arg-type]
        while not await consumer.getmany(timeout_ms=100):
            pass
        return (time.perf_counter() - started) * 1000
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--ranges", default="10,60,120", help="comma-separated numbers of days closed at once")
    args = parser.parse_args()
    ranges = [int(n) for n in args.ranges.split(",") if n.strip()]
    system = start_system("latency")
    try:
        alerts = system.processes["alerts"].url
        ops = system.client("settlement", "OPS", Role.OPERATOR)
        first = date(2026, 3, 1)

        def close(day: date, last: date | None = None) -> None:
            days = {"first": day.isoformat(), **({"last": last.isoformat()} if last else {})}
            assert ops.post("/clock/days", json=days).status_code == 202

        close(first)  # warm up: consumers joined, topics known
        eventually(lambda: _decided(alerts) == first, what="the first close", timeout=120)
        decided_ms, arrival_ms = [], []
        for i in range(1, args.days + 1):
            day = first + timedelta(days=i)
            started = time.perf_counter()
            close(day)
            eventually(partial(_decided_on, alerts, day), what=f"{day} decided", timeout=120)
            decided_ms.append((time.perf_counter() - started) * 1000)
        for i in range(args.days + 1, 2 * args.days + 1):
            day = first + timedelta(days=i)
            arrival_ms.append(asyncio.run(_arrival_ms(infra.kafka_bootstrap(), CLOCK.qualified(system.namespace), lambda d=day: close(d))))
        range_ms: dict[str, int] = {}
        day = first + timedelta(days=2 * args.days)
        for n in ranges:
            start, day = day + timedelta(days=1), day + timedelta(days=n)
            started = time.perf_counter()
            close(start, day)
            eventually(partial(_decided_on, alerts, day), what=f"{start} .. {day} decided", timeout=300)
            range_ms[f"range_{n}_days_to_decided_ms"] = round((time.perf_counter() - started) * 1000)
        print(json.dumps({
            "days": args.days,
            "close_to_decided_ms_median": round(statistics.median(decided_ms)),
            "close_to_decided_ms_max": round(max(decided_ms)),
            "close_to_clock_consumer_ms_median": round(statistics.median(arrival_ms)),
            **range_ms,
        }))
    finally:
        system.stop_all()
        infra.stop_test_infrastructure()


if __name__ == "__main__":
    main()
