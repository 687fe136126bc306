"""A day close split across two alerts instances, one killed (SIGKILL) midway, decides what one instance decides.

Two alerts processes share the consumer group (six partitions per topic) and one
database; nothing else runs: the facts and the day-close markers go straight onto
the group's topics, as the producing services' relays would put them. Two groups
of invoices of twelve Guiyang hospitals (on every orders partition) fall overdue on two days, some paid in
part or in full before. At each of those closes the instance that opened it takes
the chunks of its partitions and the other instance takes its share
(``jicai_day_close_invoices_decided_total{role="share"}`` grows); midway through the
first close the instance taking its share is killed, midway through the second the
opener itself. The survivor finishes each close (the killed chunk's invoices queued
again; the opener's close resumed by the next decider), and everything decided
(streams, invoices, decisions, alerts, outbox; event ids named by stream and version)
equals what a single alerts instance decided from the same envelopes.

"Midway" is held, not raced: during each close the test holds the invoice lock (the one a payment or a chunk
takes) of every hospital's last unpaid invoice, so every partition's queue stops at a chunk waiting for it, after
chunks each instance has decided; the kill lands on an instance inside such a chunk, then the locks go. A few
invoices per hospital are enough, however fast the close.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from jicai_alerts.adapters.policy import FOLDED
from jicai_alerts.bootstrap import RULES
from jicai_alerts.entrypoints.app import build_app
from jicai_alerts.settings import Settings
from jicai_devstack import services as procs
from jicai_devstack._proc import free_port
from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import InvoiceLine, InvoiceReceived, PaymentAllocation, PaymentRecorded
from jicai_events.kafka import ensure_topics
from jicai_kit.clock import day_closed_envelope
from tests.support import infra
from tests.support.alerts_state import decided_state, holding_invoices, rows
from tests.support.in_process_client import InProcessClient
from tests.support.kafka_facts import close_days, publish, wait_for_group

pytestmark = pytest.mark.e2e

REGION, HOSPITALS = "520100", 12
"""Twelve: every one of the six orders partitions has one to three of them (murmur2 of ``H-SPLIT-nn``)."""
PER_DAY = 5 * HOSPITALS
"""Five invoices per hospital and group (``HOSPITALS`` is prime to 5): one paid in full, one in half, three unpaid."""
RECEIVED = (date(2026, 9, 7), date(2026, 9, 14))
"""Two Mondays: each group of invoices falls overdue on its own day."""
CHUNK = 2
"""Every hospital has three or more invoices queued before its held one (``held``): each partition has a whole chunk
to decide before a held one."""
DECIDER_LOCK = "jicai-day-close:alerts.rules"
THIS_DATABASE = "(SELECT oid FROM pg_database WHERE datname = current_database())"
"""Locks of the test's database only: the cluster is the whole run's, other workers' alerts take the same locks."""


def invoice_id(group: int, n: int) -> str:
    return f"INV-SPLIT-{group}-{n:04d}"


def facts() -> list[IntegrationEvent]:
    """Per group: ``PER_DAY`` invoices, ``n`` of hospital ``n % HOSPITALS``; every fifth paid in full and every fifth but
    one paid in half before its deadline."""
    out: list[IntegrationEvent] = []
    for group, received in enumerate(RECEIVED):
        accepted = received - timedelta(days=2)
        for n in range(PER_DAY):
            invoice, hospital, amount = invoice_id(group, n), f"H-SPLIT-{n % HOSPITALS:02d}", Decimal("198.00")
            out.append(InvoiceReceived(
                invoice_id=invoice, invoice_number=f"{group}{n:04d}", institution_id=hospital, pooling_region_code=REGION,
                distributor_id="D-SPLIT", issued_on=accepted, received_on=received, amount=amount,
                lines=(InvoiceLine(acceptance_id=f"A-{group}-{n}", contract_id="C-SPLIT", quantity=100, unit_price=Decimal("1.9800"),
                                   amount=amount, accepted_on=accepted),),
                latest_acceptance_on=accepted,
            ))
            if n % 5 in (0, 1):
                paid = amount if n % 5 == 0 else amount / 2
                out.append(PaymentRecorded(
                    payment_id=f"P-SPLIT-{group}-{n:04d}", institution_id=hospital, distributor_id="D-SPLIT",
                    paid_on=received + timedelta(days=3), amount=paid, allocations=(PaymentAllocation(invoice_id=invoice, amount=paid),),
                ))
    return out


def held(group: int) -> list[str]:
    """Each hospital's last invoice of ``group`` not paid in full: queued at its close, after others of the hospital."""
    last = {n % HOSPITALS: n for n in range(PER_DAY) if n % 5 != 0}
    return [invoice_id(group, n) for n in last.values()]


@dataclass
class Instance:
    name: str
    run_dir: Path
    process: procs.ServiceProcess | None = None


class Split:
    """Two alerts processes on one database and one namespace, each named in PostgreSQL (``application_name``)."""

    def __init__(self, url: str, ns: str, run_dir: Path) -> None:
        self.url, self.ns = url, ns
        self.instances = {name: Instance(name, run_dir / name) for name in ("alerts-a", "alerts-b")}

    def start(self, *names: str) -> None:
        """Start the named instances side by side (the database is at head: nothing to migrate) and wait until ready."""
        for name in names:
            instance = self.instances[name]
            env = procs.service_env("alerts", f"{self.url}?application_name={name}", infra.kafka_bootstrap(),
                                    {"JICAI_KAFKA_NAMESPACE": self.ns, "JICAI_DAY_CLOSE_CHUNK_SIZE": str(CHUNK)})
            port = instance.process.port if instance.process else free_port()
            instance.process = procs.start_service(instance.run_dir, "alerts", port, env)
        for name in names:
            instance = self.instances[name]
            assert instance.process is not None
            procs.wait_ready(instance.process, instance.run_dir)

    def kill(self, name: str) -> None:
        assert procs.stop_service(self.instances[name].run_dir, "alerts", kill=True), f"{name} was not running"

    def stop_all(self) -> None:
        for instance in self.instances.values():
            procs.stop_service(instance.run_dir, "alerts")

    def url_of(self, name: str) -> str:
        process = self.instances[name].process
        assert process is not None
        return process.url

    def shared(self, name: str) -> float:
        """Invoices the instance decided taking its share of closes others opened (since it started)."""
        text = httpx.get(f"{self.url_of(name)}/metrics", timeout=10, verify=procs.local_tls()).text
        return sum(s.value for f in text_string_to_metric_families(text) if f.name == "jicai_day_close_invoices_decided"
                   for s in f.samples if s.name.endswith("_total") and s.labels.get("role") == "share")

    def opener(self) -> str | None:
        """The instance holding the day-close decider's lock (an advisory lock on a text hash: its low 32 bits)."""
        found = rows(self.url, (
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            f" WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.database = {THIS_DATABASE}"
            f" AND l.objid::bigint = (hashtext('{DECIDER_LOCK}')::bigint & 4294967295)"
        ))
        return str(found[0][0]) if found else None

    def progress(self, day: date) -> tuple[int, int] | None:
        found = rows(self.url, f"SELECT invoices_due, invoices_decided FROM day_close_runs WHERE business_date = '{day}'")
        return (int(found[0][0]), int(found[0][1])) if found else None

    def waiting_for_invoices(self) -> int:
        """How many of the instances wait for an advisory lock (here: for an invoice the test holds)."""
        found = rows(self.url, (
            "SELECT count(DISTINCT a.application_name) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            f" WHERE l.locktype = 'advisory' AND NOT l.granted AND l.database = {THIS_DATABASE}"
            f" AND a.application_name IN ({', '.join(repr(n) for n in self.instances)})"
        ))
        return int(found[0][0])

    def last_closed(self) -> date | None:
        found = rows(self.url, "SELECT last_closed_on FROM clock WHERE NOT EXISTS (SELECT FROM day_close_runs)")
        return found[0][0] if found else None


@contextmanager
def single_instance(url: str) -> Iterator[TestClient]:
    """The reference: one alerts instance (in this process, no Kafka) on its own database."""
    FOLDED.reset()
    with InProcessClient(build_app(Settings(database_url=url, run_workers=False))) as client:
        yield client
    FOLDED.reset()


def deliver(client: TestClient, envelopes: list[Envelope]) -> None:
    consumer = client.app.state.runtime.event_consumer(RULES)  # type: ignore[attr-defined]
    assert client.portal is not None
    for envelope in envelopes:
        assert client.portal.call(consumer.deliver, envelope) == "handled", envelope.type


def wait_until(probe: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
    """Poll ``probe`` (each asks PostgreSQL on a new connection, or an instance's metrics) until true: often at first,
    then every quarter second, as ``eventually`` does; what it waits for stays true once reached (locks held, a day closed)."""
    deadline, pause = time.monotonic() + timeout, 0.02
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(pause)
        pause = min(pause * 1.5, 0.25)


@pytest.fixture
def split() -> Iterator[Split]:
    base = infra.postgres_base_url()
    ns = f"e2e-split-{uuid.uuid4().hex[:6]}."
    asyncio.run(ensure_topics(infra.kafka_bootstrap(), ns))
    url = infra.migrated_database(base, "alerts")
    system = Split(url, ns, infra.TEST_RUN_DIR / ns.rstrip("."))
    try:
        system.start("alerts-a", "alerts-b")
        yield system
    finally:
        system.stop_all()
        infra.drop_database(url)


def test_a_close_split_across_two_instances_one_killed_midway_decides_what_one_instance_decides(split: Split) -> None:
    bootstrap = infra.kafka_bootstrap()
    at = datetime(2026, 9, 1, tzinfo=UTC)
    envelopes = [Envelope.wrap(event, time=at) for event in facts()]
    reference_url = infra.migrated_database(infra.postgres_base_url(), "alerts")
    with single_instance(reference_url) as reference:
        deliver(reference, envelopes)
        first_due, second_due = (d for (d,) in rows(reference_url, "SELECT DISTINCT deadline FROM invoices ORDER BY 1"))
        asyncio.run(wait_for_group(bootstrap, split.ns + RULES.name, 2))
        invoices = [e for e in envelopes if e.type == InvoiceReceived.type_name()]
        asyncio.run(publish(bootstrap, split.ns, invoices))  # then the payments: counted, not kept for an invoice to come
        wait_until(lambda: rows(split.url, "SELECT count(*) FROM invoices") == [(len(invoices),)], "every invoice tracked")
        asyncio.run(publish(bootstrap, split.ns, [e for e in envelopes if e.type != InvoiceReceived.type_name()]))

        def close(first: date, last: date) -> None:
            """The days on the group's topics and to the reference."""
            days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
            asyncio.run(close_days(bootstrap, split.ns, days))
            deliver(reference, [day_closed_envelope(day) for day in days])

        def close_killing(day: date, group: int, role: str, *, restart: bool) -> None:
            """Close ``day`` holding each partition's last chunk; once both instances have decided part of it and wait
            in a held chunk, kill the one in ``role``, then let the survivor finish (and start the killed one again
            if ``restart``: another close follows)."""
            with holding_invoices(split.url, held(group)) as release:
                close(day, day)
                seen: dict[str, str] = {}

                def both_deciding() -> bool:
                    progress, opener = split.progress(day), split.opener()
                    assert split.last_closed() != day, f"the close of {day} ended while invoices of it were held"
                    if progress is None or opener is None:
                        return False
                    helper = next(n for n in split.instances if n != opener)
                    seen.update(opener=opener, helper=helper)
                    return progress[1] > 0 and split.shared(helper) > 0 and split.waiting_for_invoices() == 2

                wait_until(both_deciding, f"both instances deciding the close of {day}, then waiting for a held invoice")
                due, decided = split.progress(day) or (0, 0)
                assert 0 < decided < due, (decided, due)
                split.kill(seen[role])
                release()
            wait_until(lambda: split.last_closed() == day, f"the survivor to finish the close of {day}")
            if restart:
                split.start(seen[role])
                asyncio.run(wait_for_group(bootstrap, split.ns + RULES.name, 2))

        # Only the day before each deadline and the deadline are closed (the clock may skip days; nothing falls due
        # in between): a close that decides nothing is no part of the split.
        close(first_due - timedelta(days=1), first_due - timedelta(days=1))
        wait_until(lambda: split.last_closed() == first_due - timedelta(days=1), "a quiet close")
        close_killing(first_due, 0, "helper", restart=True)
        close(second_due - timedelta(days=1), second_due - timedelta(days=1))
        close_killing(second_due, 1, "opener", restart=False)

        decided = decided_state(split.url)
        # Alerts' own day-close markers (its outbox, one per partition of its topic per day) come from its marker
        # consumer, which the reference (no Kafka) does not run.
        decided["outbox"] = [o for o in decided["outbox"] if "DayCloseReached" not in o]
        assert decided == decided_state(reference_url)
    infra.drop_database(reference_url)
    warned = [d for d in decided["decisions"] if d[1] == "overdue_warning"]
    assert len(warned) == 2 * PER_DAY * 4 // 5  # every invoice not paid in full: once, neither lost nor twice
    assert rows(split.url, "SELECT count(*) FROM day_close_queue") == [(0,)]
    assert rows(split.url, "SELECT count(*) FROM processed_events WHERE outcome <> 'handled'") == [(0,)]
