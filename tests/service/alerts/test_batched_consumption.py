"""Batched consumption decides exactly as one event at a time, on real PostgreSQL.

The same envelopes (acceptances of several hospitals with a HIS repeat and a
redelivery, invoices with a payment that came first and a republished one,
payments, non-winning purchases, a credit note, a void, and day closes that
warn, withhold and release) go to two fresh alerts databases: one event per
transaction (``deliver``), and in consumer batches (``deliver_many``, runs of
one type handled set-based). Every table must end the same, row for row:
read models, decisions, the event store and the outbox (stored event ids,
being random, compared by the stream and version they name).
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import event

from jicai_alerts.adapters.policy import FOLDED
from jicai_alerts.adapters.tables import metadata
from jicai_alerts.bootstrap import RULES
from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import ContractSigned, DayClosed, DeliveryAccepted, InvoiceReceived
from jicai_kit.auth import Role
from jicai_kit.serve import rebuild_read_models
from jicai_kit.services import service
from tests.service.alerts.test_flow import Alerts, build_alerts, invoice, payment
from tests.service.alerts.test_non_winning import bought, product
from tests.service.alerts.test_red_letter import credited, voided
from tests.support.shared_apps import SharedApps

HOSPITALS = ("H001", "H002", "H003")
VOLATILE = {"recorded_at", "processed_at", "created_at", "published_at", "global_position", "id"}


def _accepted(acceptance_id: str, hospital: str, boxes: int, on: date) -> DeliveryAccepted:
    return DeliveryAccepted(
        acceptance_id=acceptance_id, external_id=f"HIS-{acceptance_id}", institution_id=hospital, pooling_region_code="520100",
        contract_id=f"C-{hospital}", product_id="P1", distributor_id="D001", accepted_quantity=boxes, rejected_quantity=0,
        accepted_on=on, lot_number="L1", unit_price=Decimal("10.0000"), accepted_amount=Decimal(boxes * 10).quantize(Decimal("0.01")),
    )


def _contract(hospital: str) -> ContractSigned:
    return ContractSigned(
        contract_id=f"C-{hospital}", institution_id=hospital, pooling_region_code="520100", manufacturer_id="M001",
        distributor_id="D001", product_id="P1", unit_price=Decimal("10.0000"), agreed_quantity=4000,
        cycle_start=date(2026, 1, 1), cycle_end=date(2026, 12, 31), signed_on=date(2025, 12, 20),
    )


def _invoice(invoice_id: str, hospital: str, amount: str, received: date) -> InvoiceReceived:
    return invoice(invoice_id, amount, received=received).model_copy(update={"institution_id": hospital})


def _days(first: date, last: date) -> list[IntegrationEvent]:
    return [DayClosed(business_date=first + timedelta(days=n)) for n in range((last - first).days + 1)]


def scenario() -> list[Envelope]:
    """Envelopes in the order Kafka would deliver them (fixed ids: both runs get the very same)."""
    at = datetime(2026, 9, 1, tzinfo=UTC)
    events: list[IntegrationEvent] = [product(), *(_contract(h) for h in HOSPITALS)]
    events += [_accepted(f"{h}:A{n}", h, 100 + n, date(2026, 3, 1) + timedelta(days=n)) for n in range(12) for h in HOSPITALS]
    events += [_accepted("H001:A3", "H001", 103, date(2026, 3, 4))]  # the HIS pushed a line twice: a new event, counted once
    events += [payment("P-EARLY", date(2026, 9, 6), INV_4="4000.00")]  # paid before alerts has the invoice
    events += [_invoice(f"INV-{n}", HOSPITALS[(n - 1) % 3], f"{n}000.00", date(2026, 9, 5)) for n in range(1, 7)]
    events += [_invoice("INV-2", "H002", "2000.00", date(2026, 9, 5))]  # republished by orders
    events += [bought("NW-1", 700, date(2026, 3, 10)), bought("W-1", 70, date(2026, 3, 11), winning=True)]
    # One partition interleaves a hospital's facts: acceptances and invoices commute (a batch makes one run of each),
    # a payment before its invoice does not move past it, a purchase keeps its place among the acceptances.
    for n in range(8):
        hospital = HOSPITALS[n % 3]
        events += [_accepted(f"{hospital}:M{n}", hospital, 20 + n, date(2026, 8, 1)), _invoice(f"INV-M{n}", hospital, "300.00", date(2026, 9, 5))]
        events += [payment(f"P-M{n}", date(2026, 9, 20), **{f"INV_M{n + 1}": "300.00"})] if n % 3 == 0 else []
        events += [bought(f"NW-M{n}", 140, date(2026, 8, 2))] if n == 5 else []
    events += _days(date(2026, 9, 1), date(2026, 10, 12))
    events += [_invoice(f"INV-LATE-{n}", "H002", "500.00", date(2026, 9, 5)) for n in range(3)]  # warned on arrival
    events += [_accepted(f"H002:B{n}", "H002", 50, date(2026, 10, 2)) for n in range(5)]
    events += [payment("P-1", date(2026, 10, 12), INV_1="1000.00"), credited("CN-1", "100.00", "9900.00", date(2026, 10, 12))]
    events += [voided(date(2026, 10, 13)), *_days(date(2026, 10, 13), date(2026, 11, 3))]
    envelopes = [Envelope.wrap(e, time=at, event_id=f"evt-{n:04d}") for n, e in enumerate(events)]
    envelopes.insert(40, envelopes[20])  # a redelivery of an acceptance already handled
    return envelopes


def alerts_service(shared_apps: SharedApps, variant: str) -> Alerts:
    """One of the module's alerts services, on empty tables."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("JICAI_POLICY_DIR", raising=False)
        env.delenv("JICAI_CALENDAR_DIR", raising=False)
        shared = shared_apps.fresh("alerts", build_alerts, variant)
        FOLDED.base()  # the packaged book, loaded while the environment names no other
    return Alerts(shared.client, shared.app, shared.url, {})


def tables(url: str) -> dict[str, list[str]]:
    """Every table's rows as canonical JSON (stored event ids replaced by the stream and version they name), sorted;
    the outbox in the order the relay publishes it."""
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        names = {
            event_id: f"{stream_id}#{version}"
            for event_id, stream_id, version in conn.execute("SELECT event_id, stream_id, version FROM event_store").fetchall()
        }

        def canonical(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: canonical(v) for k, v in value.items() if k not in VOLATILE and k != "time"}
            if isinstance(value, list):
                return [canonical(v) for v in value]
            if isinstance(value, bytes | memoryview):
                return canonical(json.loads(bytes(value)))
            if isinstance(value, str):
                return names.get(value, value)
            return value if value is None or isinstance(value, int | bool) else str(value)

        dumped = {}
        for table in [*metadata.sorted_tables]:
            cursor = conn.execute(f'SELECT * FROM "{table.name}"' + (" ORDER BY id" if table.name == "outbox" else ""))
            columns = [c.name for c in cursor.description or []]
            rows = [json.dumps(canonical(dict(zip(columns, row, strict=True))), sort_keys=True, ensure_ascii=False) for row in cursor]
            dumped[table.name] = rows if table.name == "outbox" else sorted(rows)
        return dumped


@pytest.fixture(scope="module")
def one_at_a_time(shared_apps: SharedApps) -> Iterator[tuple[list[str], dict[str, list[str]]]]:
    """The scenario delivered one event per transaction: the outcomes and every table (once for the module's tests:
    the envelopes, their ids included, are the same every time)."""
    alerts = alerts_service(shared_apps, "one at a time")
    singles = [alerts.deliver(envelope)[0] for envelope in scenario()]
    yield singles, tables(alerts.url)
    FOLDED.reset()


@pytest.fixture
def batched(shared_apps: SharedApps) -> Iterator[Alerts]:
    yield alerts_service(shared_apps, "batched")
    FOLDED.reset()


@pytest.mark.parametrize("batch_size", [7, 200])
def test_batches_end_exactly_like_one_event_at_a_time(
    one_at_a_time: tuple[list[str], dict[str, list[str]]], batched: Alerts, batch_size: int
) -> None:
    singles, one_by_one = one_at_a_time
    envelopes = scenario()
    consumer = batched.app.state.runtime.event_consumer(RULES)
    outcomes: list[str] = []
    for start in range(0, len(envelopes), batch_size):
        outcomes += batched.portal.call(consumer.deliver_many, envelopes[start:start + batch_size])

    assert outcomes == singles
    assert singles.count("duplicate") == 1 and "dead_lettered" not in singles
    in_batches = tables(batched.url)
    decided = [json.loads(r)["kind"] for r in one_by_one["decisions"]]
    assert {"payment_deadline", "overdue_warning", "settlement_withheld"} <= set(decided), decided  # the scenario decides
    for name, rows in one_by_one.items():
        assert in_batches[name] == rows, name


def test_a_rebuild_gives_back_every_table_the_batches_wrote(batched: Alerts, monkeypatch: pytest.MonkeyPatch) -> None:
    """The operators' rebuild replays the whole store in batches of thousands, where the counted facts of every
    kind follow each other in runs far longer than a consumer's: it must end exactly as live consumption did."""
    url = batched.url
    envelopes = scenario()
    consumer = batched.app.state.runtime.event_consumer(RULES)
    for start in range(0, len(envelopes), 200):
        batched.portal.call(consumer.deliver_many, envelopes[start:start + 200])
    live = tables(url)
    counted = [json.loads(r)["event_type"] for r in live["counted_facts"]]
    assert {"NonWinningAcceptanceCounted", "NonWinningPurchaseCounted", "VolumeAcceptanceCounted", "KpiPurchaseCounted"} <= set(counted)
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:  # damaged read models: rows lost
        conn.execute("DELETE FROM non_winning_institutions")
        conn.execute("DELETE FROM counted_facts WHERE event_type = 'VolumeAcceptanceCounted'")

    monkeypatch.setenv("JICAI_ALERTS_DATABASE_URL", url)
    replayed = asyncio.run(rebuild_read_models(service("alerts")))

    assert replayed == len(live["event_store"])
    rebuilt = tables(url)
    for name, rows in live.items():
        assert rebuilt[name] == rows, name


def test_a_batch_takes_the_accepted_lines_of_many_hospitals_in_a_handful_of_statements(
    batched: Alerts, token: Callable[[str, Role], dict[str, str]],
) -> None:
    """What makes it fast: 100 acceptances and 50 invoices, interleaved as one partition carries them, cost a fixed
    number of round trips (one run of each type), not one set per event."""
    now = datetime.now(UTC)
    envelopes = []
    for n in range(100):
        hospital = f"H{n % 30:03d}"
        envelopes.append(Envelope.wrap(_accepted(f"{hospital}:A{n}", hospital, 10, date(2026, 3, 2)), time=now))
        if n % 2:
            envelopes.append(Envelope.wrap(_invoice(f"INV-{n}", hospital, "100.00", date(2026, 9, 5)), time=now))
    consumer = batched.app.state.runtime.event_consumer(RULES)
    statements = count_statements(batched, lambda: batched.portal.call(consumer.deliver_many, envelopes))
    assert len(batched.get("/institutions/H001/invoices", token("ops", Role.OPERATOR))) == 4  # INV-1, 31, 61, 91
    assert statements <= 40, statements


def count_statements(alerts: Alerts, work: Callable[[], list[str]]) -> int:
    """Statements the work sends through SQLAlchemy (each COPY is one more, not counted)."""
    engine = alerts.app.state.runtime.engine.sync_engine
    seen: list[str] = []

    def count(*_: Any) -> None:
        seen.append("x")

    event.listen(engine, "before_cursor_execute", count)
    try:
        outcomes = work()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert set(outcomes) == {"handled"}, outcomes
    return len(seen)
