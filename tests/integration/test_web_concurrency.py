"""One instance served by several API processes (``JICAI_WEB_CONCURRENCY=2``): requests are answered by
any of them, the relay and consumers run in exactly one, another takes them over when that one dies, and all of
them end when their supervisor is killed."""
from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from jicai_devstack import services as procs
from jicai_devstack._proc import free_port
from jicai_events import Envelope
from jicai_events.catalog import ContractSigned
from jicai_events.kafka import ensure_topics
from jicai_events.topics import CONTRACTS, NAMESPACE_ENV
from jicai_kit.auth import Role
from jicai_kit.workers_lock import lock_path
from tests.support.namespaces import delete_namespace_topics
from tests.support.tokens import PUBLIC_KEYS, auth_header

pytestmark = pytest.mark.kafka


def _lock_holder(path: Path) -> int | None:
    """The pid holding the flock on ``path`` (from /proc/locks), if any."""
    st = os.stat(path)
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in Path("/proc/locks").read_text().splitlines():
        parts = line.split()
        if parts[1] == "FLOCK" and parts[5] == where:
            return int(parts[4])
    return None


def _running(pid: int) -> bool:
    """``pid`` exists and is no zombie (an orphan's end is reaped by init, not by us)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> set[int]:
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


async def _members(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        return len(response.groups[0][5])
    finally:
        await admin.close()


def _wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}")
        time.sleep(0.3)


async def _sign(bootstrap: str, contract_id: str) -> None:
    event = ContractSigned(
        contract_id=contract_id, institution_id="H001", pooling_region_code="520100", manufacturer_id="M1", distributor_id="D1",
        product_id="P1", unit_price=Decimal("1.9800"), agreed_quantity=1000, cycle_start=date(2026, 1, 1),
        cycle_end=date(2026, 12, 31), signed_on=date(2026, 1, 1),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(CONTRACTS.qualified(), Envelope.wrap(event, time=datetime.now(UTC)).to_bytes(), key=b"H001")
    finally:
        await producer.stop()


def _push_accepted(url: str, contract_id: str, external_id: str) -> bool:
    line = {"external_id": external_id, "contract_id": contract_id, "accepted_quantity": 5, "accepted_on": "2026-09-01", "lot_number": "L1"}
    r = httpx.post(f"{url}/institutions/H001/acceptances:batch", json={"lines": [line]}, timeout=30,
                   headers=auth_header("H001", Role.INSTITUTION))  # minted now: one minted at import expired (15 min) in a long run
    r.raise_for_status()
    return bool(r.json()["accepted"] == 1)


def test_two_api_processes_run_one_set_of_consumers_a_sibling_takes_over_when_it_dies_and_all_end_with_their_supervisor(
    service_database: Callable[[str], str], kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = f"webconc-{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv(NAMESPACE_ENV, namespace)
    asyncio.run(ensure_topics(kafka_bootstrap))
    port = free_port()
    env = procs.service_env("orders", service_database("orders"), kafka_bootstrap, {
        "JICAI_AUTH_PUBLIC_KEYS": str(PUBLIC_KEYS), NAMESPACE_ENV: namespace, "JICAI_WEB_CONCURRENCY": "2",
    })
    service = procs.start_service(tmp_path, "orders", port, env)
    try:
        procs.wait_ready(service, tmp_path)
        lock = lock_path("orders", port)
        _wait_for("a process holds the workers' lock", lambda: lock.exists() and _lock_holder(lock) is not None)
        leader = _lock_holder(lock)
        api_processes = _children(service.pid)
        assert leader in api_processes and len(api_processes - {leader}) >= 1

        group = f"{namespace}orders.contracts"
        _wait_for("the contracts consumer joined", lambda: asyncio.run(_members(kafka_bootstrap, group)) == 1)
        for _ in range(5):  # and it stays alone: the other process does not consume
            time.sleep(1)
            assert asyncio.run(_members(kafka_bootstrap, group)) == 1

        asyncio.run(_sign(kafka_bootstrap, "C-A"))
        _wait_for("the contract consumed, so a push against it is accepted", lambda: _push_accepted(service.url, "C-A", "L-A"))
        # Requests go to either process; every one of them answers.
        assert all(_push_accepted(service.url, "C-A", f"L-A{i}") for i in range(10))

        os.kill(leader, signal.SIGKILL)
        _wait_for("another process took the lock", lambda: _lock_holder(lock) not in (None, leader))
        _wait_for("one member again (the dead one timed out)", lambda: asyncio.run(_members(kafka_bootstrap, group)) == 1, timeout=90)
        asyncio.run(_sign(kafka_bootstrap, "C-B"))
        _wait_for("the new leader consumes", lambda: _push_accepted(service.url, "C-B", "L-B"), timeout=90)

        # The supervisor killed outright (an OOM kill): its API processes do not serve on, orphaned, but stop.
        api_processes = _children(service.pid)
        os.kill(service.pid, signal.SIGKILL)
        _wait_for("every API process of the killed supervisor ended", lambda: not any(_running(p) for p in api_processes))
        assert _lock_holder(lock) is None
    finally:
        procs.stop_service(tmp_path, "orders")
        asyncio.run(delete_namespace_topics(kafka_bootstrap, namespace))
