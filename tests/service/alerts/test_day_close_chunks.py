"""The day close in chunks decides exactly what the close invoice by invoice decided, on real PostgreSQL.

Two alerts databases receive the same envelopes: dozens of invoices in five
profiles (Guizhou's working-day grace and withhold, Shandong, Hubei, Chongqing,
Liangjiang's month-end deadline), partial and full payments, credit notes that
restart the clock or not, voids. One closes its days as deployed (chunks of 7
invoices, set-based); the other with the reference: the close before chunks, one
transaction, each invoice decided by the per-invoice path a catch-up still takes
(``services._decide``). Streams, read models and outbox must be the same, event
ids aside (each store gives its own; compared by stream and version).
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import FOLDED
from jicai_alerts.application import calendar, day_close, manufacturer_report, non_winning, services, volume
from jicai_alerts.bootstrap import RULES
from jicai_alerts.domain import clock
from jicai_alerts.domain import volume_completion as vc
from jicai_alerts.domain.invoice_obligation import ClosedDay
from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import (
    DayClosed,
    InvoiceCredited,
    InvoiceLine,
    InvoiceReceived,
    InvoiceVoided,
    PaymentAllocation,
    PaymentRecorded,
)
from jicai_events.day_closes import assigned
from jicai_events.subscriptions import Subscription
from jicai_events.topics import ORDERS
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.runtime import ConsumerSpec
from jicai_policy.errors import PolicyError
from tests.service.alerts.test_flow import build_alerts
from tests.support.alerts_state import decided_state, rows
from tests.support.shared_apps import SharedApps

REGIONS = ["520100", "520300", "370100", "420100", "500000", "500099"]
"""Guiyang and Zunyi (Guizhou), Jinan (Shandong), Wuhan (Hubei), Chongqing, Liangjiang."""


async def reference_close_day(uow: UnitOfWork, envelope: Envelope, event: DayClosed) -> None:
    """The day close before chunks: one transaction, every due invoice decided on its own (a savepoint each)."""
    book = await calendar.book_after_clock(uow, shared=False)
    day = ClosedDay(event.business_date, envelope.id)
    last_closed = await repo.last_closed_day(uow)
    new = clock.close(last_closed.business_date if last_closed else None, day)
    if not new:
        return
    await repo.streams.append(uow, repo.CLOCK_STREAM, "clock", await repo.stream_version(uow, repo.CLOCK_STREAM), new)
    inv = t.invoices
    due = await uow.session.scalars(
        select(inv.c.invoice_id).where(inv.c.next_decision_on <= day.business_date).order_by(inv.c.next_decision_on, inv.c.invoice_id)
    )
    for invoice_id in list(due):
        try:
            async with uow.session.begin_nested():
                await services._decide(uow, invoice_id, partial(services.decide_day_closed, day=day, book=book))
        except PolicyError as exc:
            await repo.record_blocked(uow, invoice_id, day.business_date, f"{type(exc).__name__}: {exc}")
        else:
            await repo.clear_blocked(uow, invoice_id)
    closed = vc.ClosedDay(day.business_date, day.event_id)
    await volume.close_day(uow, closed, book)
    await non_winning.close_day(uow, closed, book)
    await manufacturer_report.close_day(uow, closed, book)


REFERENCE = ConsumerSpec(
    name=RULES.name, topics=RULES.topics,
    subscriptions=tuple(
        Subscription(DayClosed, reference_close_day) if s.event is DayClosed else s for s in RULES.subscriptions
    ),
)


class Service:
    def __init__(self, client: TestClient, url: str, spec: ConsumerSpec) -> None:
        self.client, self.url = client, url
        self.consumer = client.app.state.runtime.event_consumer(spec)  # type: ignore[attr-defined]

    def deliver(self, envelope: Envelope) -> str:
        assert self.client.portal is not None
        outcome: str = self.client.portal.call(self.consumer.deliver, envelope)
        return outcome

    def deliver_all(self, envelopes: list[Envelope]) -> list[str]:
        """As a consumer's polls would bring them: runs of facts in batches, each ``DayClosed`` alone (``deliver_many``)."""
        assert self.client.portal is not None
        outcomes: list[str] = self.client.portal.call(self.consumer.deliver_many, envelopes)
        return outcomes

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        return rows(self.url, query)

    def state(self) -> dict[str, Any]:
        """Everything the close decides, with this store's event ids named by stream and version."""
        return decided_state(self.url)


@pytest.fixture
def two_alerts(shared_apps: SharedApps, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Service, Service]]:
    monkeypatch.delenv("JICAI_POLICY_DIR", raising=False)
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    chunked, reference = (shared_apps.fresh("alerts", build_alerts, variant) for variant in ("chunked", "reference"))
    monkeypatch.setattr(day_close.CHUNK, "size", 7)  # JICAI_DAY_CLOSE_CHUNK_SIZE, one per process
    yield Service(chunked.client, chunked.url, RULES), Service(reference.client, reference.url, REFERENCE)
    FOLDED.reset()


def scenario(seed: int, invoices: int) -> list[tuple[date, IntegrationEvent]]:
    """Invoices with their payments, credit notes and voids, each with the business day it happens on."""
    rng = random.Random(seed)
    facts: list[tuple[date, IntegrationEvent]] = []
    for n in range(invoices):
        region = REGIONS[n % len(REGIONS)]
        accepted = date(2026, 8, 1) + timedelta(days=rng.randrange(70))
        received = accepted + timedelta(days=rng.randrange(6))
        amount = Decimal(rng.choice(["1000.00", "2500.50", "9999.99", "120.00"]))
        invoice_id, institution = f"INV-{n:04d}", f"H{n % 17:03d}"
        facts.append((received, InvoiceReceived(
            invoice_id=invoice_id, invoice_number=str(n), institution_id=institution, pooling_region_code=region,
            distributor_id="D001", issued_on=accepted, received_on=received, amount=amount,
            lines=(InvoiceLine(acceptance_id=f"A{n}", contract_id="C1", quantity=10, unit_price=amount / 10, amount=amount,
                               accepted_on=accepted),),
            latest_acceptance_on=accepted,
        )))
        owed = amount
        for k in range(rng.choice([0, 0, 1, 1, 2, 3])):
            what = rng.random()
            on = received + timedelta(days=rng.randrange(10, 90))
            if what < 0.15:
                facts.append((on, InvoiceVoided(
                    invoice_id=invoice_id, institution_id=institution, pooling_region_code=region, distributor_id="D001",
                    voided_on=on, reason="开票错误",
                )))
                break
            part = (owed * Decimal(rng.choice(["0.3", "0.5", "1"]))).quantize(Decimal("0.01"))
            if part <= 0:
                break
            owed -= part
            if what < 0.35:
                facts.append((on, InvoiceCredited(
                    credit_note_id=f"CN-{n}-{k}", credit_note_number=f"CN{n}{k}", invoice_id=invoice_id, institution_id=institution,
                    pooling_region_code=region, distributor_id="D001", amount=part, invoice_amount_after=owed, received_on=on,
                    reason="价格调整",
                )))
            else:
                facts.append((on, PaymentRecorded(
                    payment_id=f"P-{n}-{k}", institution_id=institution, distributor_id="D001", paid_on=on, amount=part,
                    allocations=(PaymentAllocation(invoice_id=invoice_id, amount=part),),
                )))
    return sorted(facts, key=lambda f: f[0])


def test_a_chunked_close_decides_what_the_close_invoice_by_invoice_decided(two_alerts: tuple[Service, Service]) -> None:
    chunked, reference = two_alerts
    facts = scenario(seed=11, invoices=60)
    at = datetime(2026, 8, 1, tzinfo=UTC)
    envelopes: list[Envelope] = []
    day = date(2026, 9, 25)  # nothing is due before
    pending = list(facts)
    while day <= date(2026, 11, 10):  # every day: each fact on its day, then the day's close
        while pending and pending[0][0] <= day:
            envelopes.append(Envelope.wrap(pending.pop(0)[1], time=at))
        envelopes.append(Envelope.wrap(DayClosed(business_date=day), time=at))
        day += timedelta(days=1)
    # Then a close far ahead (warning and withhold in one close: two stages in one chunk), and what is left late.
    envelopes.append(Envelope.wrap(DayClosed(business_date=date(2027, 1, 29)), time=at))
    envelopes += [Envelope.wrap(event, time=at) for _, event in pending]
    envelopes.append(Envelope.wrap(DayClosed(business_date=date(2027, 2, 26)), time=at))

    assert chunked.deliver_all(envelopes) == reference.deliver_all(envelopes) == ["handled"] * len(envelopes)

    decided = chunked.state()
    assert decided == reference.state()
    kinds = {row[1] for row in decided["decisions"]}
    assert {"overdue_warning", "settlement_withheld", "warning_resolved", "settlement_released"} <= kinds, kinds
    assert len(decided["alerts"]) > 40
    assert chunked.rows("SELECT count(*) FROM day_close_runs") == [(0,)]
    assert chunked.rows("SELECT count(*) FROM day_close_queue") == [(0,)]


def test_a_close_interrupted_between_chunks_resumes_and_decides_each_invoice_once(two_alerts: tuple[Service, Service]) -> None:
    """The close's chunks fail from the fourth on (a crash as the service sees it; the chunk the other taker of
    ``CHUNK.at_once`` has in flight commits, then it stops); delivered again, it resumes from the queue: every invoice
    decided once, as by the reference, and ``GET /clock`` showed the progress."""
    chunked, reference = two_alerts
    at = datetime(2026, 9, 1, tzinfo=UTC)
    facts = [Envelope.wrap(event, time=at) for _, event in scenario(seed=5, invoices=60) if isinstance(event, InvoiceReceived)]
    assert chunked.deliver_all(facts) == reference.deliver_all(facts) == ["handled"] * len(facts)
    close = Envelope.wrap(DayClosed(business_date=date(2026, 12, 31)), time=at)

    real_chunk = day_close._chunk
    calls = 0

    async def crashing_after_three(uow: UnitOfWork, day: ClosedDay, partition: int | None, after: str = "") -> list[str]:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise ConnectionError("the service was killed")
        return await real_chunk(uow, day, partition, after)

    assert day_close.CHUNK.at_once == 2
    day_close._chunk = crashing_after_three
    try:
        with pytest.raises(ConnectionError):
            chunked.deliver(close)
    finally:
        day_close._chunk = real_chunk
    progress = chunked.client.get("/clock").json()
    queued = chunked.rows("SELECT count(*) FROM day_close_queue")[0][0]
    assert progress["closing"] == {"business_date": "2026-12-31", "invoices_due": queued + 21, "decided": 21, "remaining": queued}
    assert progress["last_closed_on"] is None  # no day is decided until the last chunk commits

    assert chunked.deliver(close) == reference.deliver(close) == "handled"

    assert chunked.state() == reference.state()
    assert chunked.client.get("/clock").json()["closing"] is None
    assert chunked.client.get("/clock").json()["last_closed_on"] == "2026-12-31"
    assert chunked.deliver(close) == "duplicate"


def test_a_close_shared_by_two_instances_decides_what_one_instance_decides(two_alerts: tuple[Service, Service]) -> None:
    """Two instances on one database: the opener (assigned orders partitions 0, 2, 4) closes the day while the other
    (1, 3, 5) takes its share every few milliseconds; both decide chunks, none twice, and the streams, read models
    and outbox are those of the close invoice by invoice."""
    chunked, reference = two_alerts
    at = datetime(2026, 9, 1, tzinfo=UTC)
    facts = [Envelope.wrap(event, time=at) for _, event in scenario(seed=7, invoices=96)]
    assert chunked.deliver_all(facts) == reference.deliver_all(facts) == ["handled"] * len(facts)
    close = Envelope.wrap(DayClosed(business_date=date(2026, 12, 31)), time=at)
    runtime = chunked.client.app.state.runtime  # type: ignore[attr-defined]

    def decided_as(role: str) -> float:
        return REGISTRY.get_sample_value("jicai_day_close_invoices_decided_total", {"role": role}) or 0.0

    before = {role: decided_as(role) for role in ("opener", "share")}

    def orders(*partitions: int) -> frozenset[tuple[str, int]]:
        return frozenset((ORDERS.qualified(), p) for p in partitions)

    async def two_instances() -> str:
        opened = asyncio.Event()

        async def opener() -> str:
            with assigned(orders(0, 2, 4)):
                opened.set()
                outcome: str = await chunked.consumer.deliver(close)
                return outcome

        async def other() -> None:
            await opened.wait()
            with assigned(orders(1, 3, 5)):
                while not closing.done():
                    await day_close.share(runtime.unit_of_work())
                    await asyncio.sleep(0.005)

        closing = asyncio.create_task(opener())
        await asyncio.gather(closing, other())
        return closing.result()

    assert chunked.client.portal is not None
    assert chunked.client.portal.call(two_instances) == reference.deliver(close) == "handled"

    parts = {role: decided_as(role) - before[role] for role in before}
    assert parts["opener"] > 0 and parts["share"] > 0, parts  # each instance decided part of the close
    assert chunked.state() == reference.state()
    assert chunked.rows("SELECT count(*) FROM day_close_queue") == [(0,)]
