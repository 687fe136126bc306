"""Consumers that fail safely, through REST, on real Kafka and PostgreSQL.

A service here is the kit's app with one consumer group of payments: its relay
publishes what the test writes to the outbox, its consumer applies it. A
handler failing for a reason of ours parks the partition (nothing behind it
overtakes it, nothing is dropped) until an operator resumes it; a business
refusal is a dead letter an operator lists and redrives once the cause is
fixed; old claims are pruned, dead-lettered ones kept.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

import pytest
from aiokafka import AIOKafkaProducer
from fastapi.testclient import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from jicai_events.catalog import PaymentAllocation, PaymentRecorded
from jicai_events.envelope import Envelope
from jicai_events.kafka import ensure_topics
from jicai_events.subscriptions import AwaitsOtherFacts, Subscription, Unprocessable
from jicai_events.tables import add_event_tables
from jicai_events.topics import SETTLEMENT
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Role, issue_token
from jicai_kit.http import create_app
from jicai_kit.runtime import ConsumerSpec, ServiceRuntime
from jicai_kit.settings import ServiceSettings
from tests.support.in_process_client import InProcessClient
from tests.support.tokens import SIGNING_KEY

pytestmark = pytest.mark.kafka

metadata = MetaData()
tables = add_event_tables(metadata)
applied = Table("applied", metadata, Column("payment_id", String(64), primary_key=True), Column("times", Integer, nullable=False))

CONSUMER = "plumbing.payments"
ledger_down: set[str] = set()  # payments whose handler fails for a reason of ours (the "cause" an operator fixes)
unknown_invoice: set[str] = set()  # payments the handler refuses as they are (a business verdict)
ledger_behind: set[str] = set()  # payments whose handler waits for a fact of another topic (heals by itself)


class LedgerBehind(AwaitsOtherFacts):
    """As alerts' policy book behind contracts': the fact the payment presupposes is on its way on another topic."""


class PlumbingSettings(ServiceSettings):
    service_name: ClassVar[str] = "plumbing"


async def _apply(uow: UnitOfWork, envelope: Envelope, event: PaymentRecorded) -> None:
    if event.payment_id in ledger_down:
        raise RuntimeError(f"ledger unreachable for {event.payment_id}")
    if event.payment_id in ledger_behind:
        raise LedgerBehind(f"the ledger has not yet consumed the invoice {event.payment_id} pays")
    if event.payment_id in unknown_invoice:
        raise Unprocessable(f"{event.payment_id} pays an unknown invoice")
    row = (await uow.session.execute(select(applied.c.times).where(applied.c.payment_id == event.payment_id))).first()
    if row is None:
        await uow.session.execute(applied.insert().values(payment_id=event.payment_id, times=1))
    else:
        await uow.session.execute(applied.update().where(applied.c.payment_id == event.payment_id).values(times=row.times + 1))


SPEC = ConsumerSpec(name=CONSUMER, topics=(SETTLEMENT,), subscriptions=(Subscription(PaymentRecorded, _apply),))


def _payment(payment_id: str) -> PaymentRecorded:
    return PaymentRecorded(
        payment_id=payment_id, institution_id="H1", distributor_id="D1", paid_on=date(2026, 10, 9), amount=Decimal("1.00"),
        allocations=(PaymentAllocation(invoice_id="INV-1", amount=Decimal("1.00")),),
    )


@pytest.fixture
def sync_url(engine: AsyncEngine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _app(sync_url: str) -> Any:
    settings = PlumbingSettings(database_url=sync_url)
    return create_app(
        settings=settings, make_runtime=lambda s: ServiceRuntime(settings=s, tables=tables, consumers=(SPEC,)),
        routers=[], title="plumbing", description="test service",
    )


@pytest.fixture
def started(sync_url: str, kafka_bootstrap: str, namespace: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[], TestClient]:
    """``started()``: a process of the service running its relay and consumers, as in production (use it as a context)."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("JICAI_CONSUMER_HANDLER_ATTEMPTS", "2")
    ledger_down.clear()
    unknown_invoice.clear()
    ledger_behind.clear()
    return lambda: InProcessClient(_app(sync_url))


@pytest.fixture
def service(started: Callable[[], TestClient]) -> Iterator[TestClient]:
    with started() as client:
        yield client


@pytest.fixture
def ops() -> dict[str, str]:
    return _header("ops", Role.OPERATOR)


def _header(party_id: str, role: Role) -> dict[str, str]:
    """A token for this test service: its audience is its own name, ``plumbing``."""
    return {"Authorization": f"Bearer {issue_token(SIGNING_KEY, party_id, role, [PlumbingSettings.service_name])}"}


_engines: dict[str, Any] = {}


def _db(sync_url: str) -> Any:
    """One synchronous engine per test database (the test's own thread; the app has its own)."""
    if sync_url not in _engines:
        _engines[sync_url] = create_engine(sync_url, poolclass=NullPool)
    return _engines[sync_url]


def _publish(sync_url: str, *payment_ids: str) -> None:
    """Record payments in the outbox, one transaction each (the service's relay sends them, in order, to one partition)."""
    with _db(sync_url).begin() as conn:
        for pid in payment_ids:
            envelope = Envelope.wrap(_payment(pid), time=datetime.now(UTC))
            conn.execute(insert(tables.outbox).values(
                event_id=envelope.id, topic=SETTLEMENT.qualified(), message_key=envelope.partitionkey, payload=envelope.to_bytes(),
            ))


def _applied(sync_url: str) -> dict[str, int]:
    with _db(sync_url).connect() as conn:
        return dict(conn.execute(select(applied.c.payment_id, applied.c.times)).all())


def _until(probe: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
    return found


def _metric(client: TestClient, line_start: str) -> float | None:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_a_failing_handler_parks_its_partition_until_resumed_and_nothing_is_dropped_or_applied_twice(
    service: TestClient, sync_url: str, ops: dict[str, str]
) -> None:
    ledger_down.add("P2")
    _publish(sync_url, "P1", "P2", "P3")

    ready = _until(lambda: (r := service.get("/readyz").json())["status"] == "degraded" and r, "the partition to park")
    [parked] = ready["parked"]
    assert (parked["consumer"], parked["topic"]) == (CONSUMER, SETTLEMENT.qualified())
    assert "RuntimeError: ledger unreachable for P2" in parked["reason"]
    assert service.get("/consumers/parked", headers=ops).json() == [parked]
    assert service.get("/consumers/parked", headers=_header("H1", Role.INSTITUTION)).status_code == 403
    gauge = f'jicai_consumer_parked_partitions{{consumer="{CONSUMER}",service="plumbing"}}'
    assert _metric(service, gauge) == 1
    time.sleep(2)  # give a wrongly unpaused partition the chance to run ahead
    assert _applied(sync_url) == {"P1": 1}, "P3 must wait behind P2"
    assert service.get("/dead-letters", headers=ops).json()["total"] == 0, "a fault of ours is no dead letter"

    wrong = service.post(f"/consumers/{CONSUMER}/partitions/{SETTLEMENT.qualified()}/{parked['partition'] + 1}/resume", headers=ops)
    assert wrong.status_code == 404 and wrong.headers["content-type"] == "application/problem+json"
    ledger_down.clear()  # the operator fixes the cause …
    resumed = service.post(f"/consumers/{CONSUMER}/partitions/{parked['topic']}/{parked['partition']}/resume", headers=ops)
    assert (resumed.status_code, resumed.json()["offset"]) == (200, parked["offset"])

    assert _until(lambda: len(applied := _applied(sync_url)) == 3 and applied, "the facts behind the resumed one") == {"P1": 1, "P2": 1, "P3": 1}
    after = service.get("/readyz").json()
    assert (after["status"], after["parked"]) == ("ready", [])
    assert _metric(service, gauge) == 0
    again = service.post(f"/consumers/{CONSUMER}/partitions/{parked['topic']}/{parked['partition']}/resume", headers=ops)
    assert again.status_code == 404


def test_a_partition_parked_for_a_fact_on_another_topic_is_retried_on_its_own_once_that_fact_is_in(
    service: TestClient, sync_url: str, ops: dict[str, str]
) -> None:
    """A failure that heals by itself (alerts' policy book behind the writer's) parks with a retry time, backs off,
    and passes with no operator once the awaited fact is in: nothing overtaken, dropped or applied twice."""
    ledger_behind.add("P5")
    _publish(sync_url, "P4", "P5", "P6")

    [parked] = _until(lambda: service.get("/consumers/parked", headers=ops).json(), "the partition to park")
    assert "LedgerBehind" in parked["reason"] and parked["retry_at"] is not None
    assert datetime.fromisoformat(parked["retry_at"]) > datetime.fromisoformat(parked["since"])
    later = _until(lambda: [p for p in service.get("/consumers/parked", headers=ops).json() if p["since"] != parked["since"]],
                   "a retry that parks again")
    [again] = later
    first_wait = datetime.fromisoformat(parked["retry_at"]) - datetime.fromisoformat(parked["since"])
    assert datetime.fromisoformat(again["retry_at"]) - datetime.fromisoformat(again["since"]) > first_wait, "it backs off"
    assert _applied(sync_url) == {"P4": 1}, "P6 waits behind P5"

    ledger_behind.clear()  # the awaited fact arrives: no operator acts
    assert _until(lambda: len(applied := _applied(sync_url)) == 3 and applied, "the retried facts", timeout=30) == {"P4": 1, "P5": 1, "P6": 1}
    assert service.get("/consumers/parked", headers=ops).json() == []
    assert service.get("/dead-letters", headers=ops).json()["total"] == 0


def test_a_restart_retries_a_parked_partition(started: Callable[[], TestClient], sync_url: str) -> None:
    ledger_down.add("P8")
    _publish(sync_url, "P7", "P8", "P9")
    with started() as first:
        _until(lambda: first.get("/readyz").json()["status"] == "degraded", "the partition to park")
    assert _applied(sync_url) == {"P7": 1}

    ledger_down.clear()  # fixed while the service was down
    with started() as second:
        assert _until(lambda: len(applied := _applied(sync_url)) == 3 and applied, "the retried facts") == {"P7": 1, "P8": 1, "P9": 1}
        assert second.get("/readyz").json()["status"] == "ready"


def test_a_refused_fact_is_listed_with_its_reason_and_redriven_once_its_cause_is_fixed(
    service: TestClient, sync_url: str, ops: dict[str, str], kafka_bootstrap: str
) -> None:
    unknown_invoice.add("P5")
    _publish(sync_url, "P4", "P5", "P6")
    _until(lambda: "P6" in _applied(sync_url), "the fact behind the refused one")
    assert _applied(sync_url) == {"P4": 1, "P6": 1}, "a refusal does not block the facts behind it"

    page = service.get("/dead-letters", params={"status": "dead", "consumer": CONSUMER}, headers=ops).json()
    [dead] = page["items"]
    assert page["total"] == 1
    assert (dead["event_type"], dead["topic"], dead["status"], dead["count"]) == (
        PaymentRecorded.type_name(), SETTLEMENT.qualified(), "dead", 1)
    assert dead["reason"] == "Unprocessable: P5 pays an unknown invoice"
    assert Envelope.from_bytes(dead["message"].encode()).event() == _payment("P5")
    assert service.get(f"/dead-letters/{dead['id']}", headers=ops).json() == dead
    assert service.get("/dead-letters", headers=_header("H1", Role.INSTITUTION)).status_code == 403
    bad = service.get("/dead-letters", params={"status": "lost"}, headers=ops)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"

    # Redriven before the cause is fixed: refused again, counted, nothing applied.
    still = service.post(f"/dead-letters/{dead['id']}/redrive", headers=ops).json()
    assert (still["outcome"], still["dead_letter"]["status"], still["dead_letter"]["count"]) == ("refused", "dead", 2)
    assert still["dead_letter"]["last_seen"] > dead["last_seen"]
    assert "P5" not in _applied(sync_url)

    unknown_invoice.clear()  # the invoice becomes known
    done = service.post(f"/dead-letters/{dead['id']}/redrive", headers=ops).json()
    assert (done["outcome"], done["dead_letter"]["status"]) == ("handled", "redriven")
    assert _applied(sync_url) == {"P4": 1, "P5": 1, "P6": 1}, "the clean run's result"
    with _db(sync_url).connect() as conn:
        p = tables.processed_events
        claims = conn.execute(select(p.c.outcome).where(p.c.event_id == dead["event_id"])).scalars().all()
    assert claims == ["handled"], "the dead-lettered claim is replaced, not doubled"
    twice = service.post(f"/dead-letters/{dead['id']}/redrive", headers=ops)
    assert twice.status_code == 409 and "redriven" in twice.json()["detail"]
    assert _applied(sync_url)["P5"] == 1

    # A message that is no envelope at all: listed, never applicable, resolved by the operator.
    async def garbage() -> None:
        await ensure_topics(kafka_bootstrap)
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(SETTLEMENT.qualified(), b"{not json", key=b"H1")
        finally:
            await producer.stop()

    assert service.portal is not None
    service.portal.call(garbage)
    _until(lambda: service.get("/dead-letters", params={"status": "dead"}, headers=ops).json()["total"] == 1, "the unparseable message")
    first = service.get("/dead-letters", params={"limit": 1}, headers=ops).json()
    second = service.get("/dead-letters", params={"limit": 1, "offset": 1}, headers=ops).json()
    assert (first["total"], second["total"]) == (2, 2)
    assert [first["items"][0]["id"], second["items"][0]["event_type"]] == [dead["id"], "unparseable"]
    resolved = service.post(f"/dead-letters/{second['items'][0]['id']}/resolve", headers=ops).json()
    assert resolved["status"] == "resolved" and "not a CloudEvents envelope" in resolved["reason"]
    assert service.get("/dead-letters", params={"status": "dead"}, headers=ops).json()["total"] == 0
    assert service.get("/dead-letters/999999", headers=ops).status_code == 404


def test_old_claims_are_pruned_but_dead_lettered_ones_are_kept(
    engine: AsyncEngine, sync_url: str, kafka_bootstrap: str, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    p = tables.processed_events
    rows = [
        ("old-handled", "handled", now - timedelta(days=31)),
        ("old-dead", "dead_lettered", now - timedelta(days=90)),
        ("recent", "handled", now - timedelta(days=29)),
    ]
    with _db(sync_url).begin() as conn:
        for event_id, outcome, at in rows:
            conn.execute(insert(p).values(consumer=CONSUMER, event_id=event_id, event_type="t", outcome=outcome, processed_at=at))
        conn.execute(insert(p).values(consumer="another", event_id="old-handled", event_type="t", outcome="handled",
                                      processed_at=now - timedelta(days=400)))

    def left() -> set[tuple[str, str]]:
        with _db(sync_url).connect() as conn:
            return {(r.consumer, r.event_id) for r in conn.execute(select(p.c.consumer, p.c.event_id))}

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    with InProcessClient(_app(sync_url)):  # the consumer prunes when it starts, then hourly
        _until(lambda: (CONSUMER, "old-handled") not in left(), "the prune")
    assert left() == {(CONSUMER, "old-dead"), (CONSUMER, "recent"), ("another", "old-handled")}
