"""No event lost or applied twice: HIS retries, duplicated events, killed services, Kafka restarts.

The same flow runs with all of that injected; its final state must equal the
undisturbed run's, field for field.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import create_engine, text

from jicai_kit.auth import Role
from tests.e2e.clean_run.conftest import CleanRun
from tests.e2e.conftest import stable
from tests.e2e.flow import INSTITUTION, PUSH, Hooks, run_flow
from tests.e2e.system import System, start_system
from tests.support import infra

pytestmark = pytest.mark.e2e


def _his_retries_concurrently(system: System) -> None:
    def push() -> list[str]:
        with system.client("orders", INSTITUTION, Role.INSTITUTION) as his:
            return [x["status"] for x in his.post(f"/institutions/{INSTITUTION}/acceptances:batch", json=PUSH).json()["results"]]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: push(), range(4)))
    assert all(r == ["duplicate", "duplicate"] for r in results), results


def _redeliver_orders_events(system: System) -> None:
    """Send every event the orders service published to Kafka a second time."""
    engine = create_engine(system.database_urls["orders"])
    with engine.connect() as conn:
        rows = conn.execute(text("select topic, message_key, payload from outbox order by id")).all()
    engine.dispose()

    async def resend() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=system.bootstrap)
        await producer.start()
        try:
            for r in rows:
                await producer.send_and_wait(r.topic, bytes(r.payload), key=r.message_key.encode())
        finally:
            await producer.stop()

    asyncio.run(resend())


def _kill_and_restart(name: str):  # type: ignore[no-untyped-def]
    def chaos(system: System) -> None:
        system.kill(name)
        system.start(name)

    return chaos


def _kill_alerts_mid_batch_and_repeat_days(system: System) -> None:
    # alerts is busy with 45 day closes; SIGKILL it, restart, and close the same days again
    system.kill("alerts")
    system.start("alerts")
    system.close_days(date(2026, 9, 1), date(2026, 10, 15))


CHAOS_KAFKA = infra.TEST_RUN_DIR / "chaos-kafka"
"""The disturbed run's own broker: crashing the run's shared one would disturb every other worker's tests."""


@pytest.fixture
def chaos_broker() -> Iterator[str | None]:
    """The bootstrap address of a broker of this test's own, stopped after it; None on an external cluster (the
    run's broker then, never crashed: not the suite's to crash)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield None
        return
    from jicai_devstack.kafka import stop_kafka

    try:
        yield infra.start_test_kafka(CHAOS_KAFKA)
    finally:
        stop_kafka(CHAOS_KAFKA)


def _restart_kafka(system: System) -> None:
    """Crash the system's broker (SIGKILL) and start it again on the same data; skipped on an external cluster."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return
    from jicai_devstack.kafka import restart_kafka

    assert system.bootstrap == restart_kafka(CHAOS_KAFKA, hard=True).bootstrap, "the system runs on the broker crashed"


def _assert_ends_like(clean: dict[str, Any], disturbed: dict[str, Any]) -> None:
    """Field for field (metrics aside, and what legitimately differs: ids, timestamps)."""
    for key in clean:
        if not key.startswith("metrics"):
            assert stable(disturbed[key]) == stable(clean[key]), key


def test_disturbed_run_ends_exactly_like_the_clean_run(clean_run: CleanRun, chaos_broker: str | None) -> None:
    clean = clean_run.seen
    hooks = Hooks(after={
        "contract": _kill_and_restart("orders"),
        "acceptance": _his_retries_concurrently,
        "invoice": _redeliver_orders_events,
        "partial-payment": _kill_and_restart("settlement"),
        "first-days": _kill_alerts_mid_batch_and_repeat_days,
        "withheld": _restart_kafka,
    })
    system = start_system("chaos", bootstrap=chaos_broker)
    try:
        _assert_ends_like(clean, run_flow(system, hooks))
    finally:
        system.stop_all()


def test_a_second_alerts_instance_joining_and_leaving_changes_no_decision(clean_run: CleanRun) -> None:
    """Scale-out: a second alerts process joins the group mid-flow (partitions move mid-batch), then is
    killed while day closes are being decided. Every decision is taken once, as by one instance; nothing is dead-lettered."""
    clean = clean_run.seen
    hooks = Hooks(after={
        "contract": lambda system: system.start_second_instance("alerts"),
        "first-days": lambda system: system.kill_second_instance("alerts"),
    })
    system = start_system("scale")
    try:
        _assert_ends_like(clean, run_flow(system, hooks))
        engine = create_engine(system.database_urls["alerts"])
        with engine.connect() as conn:
            dead = conn.execute(text("select event_type, reason from processed_events where outcome <> 'handled'")).all()
        engine.dispose()
        assert dead == []
    finally:
        system.kill_second_instance("alerts")
        system.stop_all()
