"""Replay: every service's read models, rebuilt from its event store alone, equal what the live system built;
and alerts' decisions, derived once more from the facts on Kafka alone, equal the live ones.

Runs on the platform after the five-province agreement year (``year_run``): every
service's process is stopped, every read-model table is emptied and replayed with the
operators' command (``jicai-serve SERVICE --rebuild-read-models``, the four services'
at once: each replays its own database), and the tables and the public API must come
back exactly as they were.
"""
from __future__ import annotations

import asyncio
import importlib
import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi.testclient import TestClient
from sqlalchemy import Table, create_engine, select, text

from jicai_alerts.adapters.policy import FOLDED
from jicai_alerts.bootstrap import RULES
from jicai_alerts.entrypoints.app import build_app
from jicai_alerts.settings import Settings
from jicai_devstack import services as procs
from jicai_events import Envelope
from jicai_kit.auth import Role
from tests.e2e.agreement_year import CASES, ProfileCase
from tests.e2e.conftest import stable
from tests.e2e.system import System
from tests.support import infra
from tests.support.in_process_client import InProcessClient
from tests.support.tokens import auth_header

pytestmark = pytest.mark.e2e


def _read_models(service: str) -> tuple[Table, ...]:
    tables: tuple[Table, ...] = importlib.import_module(f"jicai_{service}.adapters.tables").READ_MODELS
    return tables


def _snapshot(url: str, tables: tuple[Table, ...]) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr) for t in tables}
    finally:
        engine.dispose()


def _asked(case: ProfileCase) -> dict[str, tuple[str, ...]]:
    """What each service is asked about a profile's institution and invoice."""
    h, inv = case.institution, case.invoice
    return {"alerts": (f"/invoices/{inv}", f"/institutions/{h}/alerts?include_closed=true", f"/institutions/{h}/non-winning"),
            "settlement": (f"/invoices/{inv}", f"/institutions/{h}/settlement-status", f"/institutions/{h}/payments"),
            "orders": (f"/invoices/{inv}", f"/institutions/{h}/acceptances"),
            "contracts": (f"/contracts?institution_id={h}",)}


def _public_views(system: System) -> dict[str, Any]:
    """What each service answers about every profile, keyed "service path"."""
    views: dict[str, Any] = {}
    for service in procs.SERVICES:
        with system.client(service, "OPS", Role.OPERATOR) as client:
            for case in CASES:
                for path in _asked(case)[service]:
                    views[f"{service} {path}"] = client.get(path).json()
    return views


@dataclass(frozen=True)
class Rebuild:
    """One service's replay: its read models before and after, what the command said, its public views before and after."""
    before: dict[str, list[tuple[Any, ...]]]
    after: dict[str, list[tuple[Any, ...]]]
    command: subprocess.CompletedProcess[str]
    views_before: dict[str, Any]
    views_after: dict[str, Any]


def _rebuild_read_models(url: str, service: str, run_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, f"JICAI_{service.upper()}_DATABASE_URL": url}
    return procs.run_command(service, ["--rebuild-read-models"], env, run_dir)


@pytest.fixture(scope="module")
def rebuilt(year_run: Any) -> dict[str, Rebuild]:
    """Every service stopped, its read models replayed by the operators' command, and started again, by service.

    The four replays run at once (each service's own database; nothing consumes while they are stopped), so the
    platform is stopped, read and started once rather than once per service."""
    system, _ = year_run
    views_before = _public_views(system)
    system.stop_all()
    try:
        urls = system.database_urls
        before = {service: _snapshot(urls[service], _read_models(service)) for service in procs.SERVICES}
        with ThreadPoolExecutor(len(procs.SERVICES)) as replaying:
            commands = dict(zip(procs.SERVICES, replaying.map(lambda s: _rebuild_read_models(urls[s], s, system.run_dir), procs.SERVICES), strict=True))
        after = {service: _snapshot(urls[service], _read_models(service)) for service in procs.SERVICES}
    finally:
        system.start()
    views_after = _public_views(system)

    def of(service: str, views: dict[str, Any]) -> dict[str, Any]:
        return {key: view for key, view in views.items() if key.startswith(f"{service} ")}

    return {service: Rebuild(before[service], after[service], commands[service], of(service, views_before), of(service, views_after))
            for service in procs.SERVICES}


@pytest.mark.parametrize("service", list(procs.SERVICES))
def test_rebuilding_read_models_from_the_event_log_gives_the_same_state(rebuilt: dict[str, Rebuild], service: str) -> None:
    rebuild = rebuilt[service]
    assert any(rebuild.before.values()), f"{service} projected nothing during the year"
    assert rebuild.command.returncode == 0, rebuild.command.stderr
    for name in rebuild.before:
        assert rebuild.after[name] == rebuild.before[name], f"{service}.{name} differs after the replay"
    assert rebuild.views_before and rebuild.views_after == rebuild.views_before


async def _facts_on_kafka(system: System) -> dict[str, Envelope]:
    """Every envelope on the topics alerts consumes, read from the beginning without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=system.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic.qualified(system.namespace), p) for topic in RULES.topics for p in range(topic.partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        envelopes: dict[str, Envelope] = {}
        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in partitions])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                for record in records:
                    assert record.value is not None
                    envelope = Envelope.from_bytes(record.value)
                    envelopes[envelope.id] = envelope
        return envelopes
    finally:
        await consumer.stop()


OPERATOR_INPUTS = {"KpiFilingWarningLineSet"}
"""Alerts' own inputs besides the facts on Kafka: operations staff's commands, replayed through the API."""


def _inputs_in_order(url: str) -> list[tuple[str, Any]]:
    """What the live alerts took in, in order: ("fact", event id) as its consumer handled them, ("operator", data) as recorded."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            facts = conn.execute(text("SELECT processed_at, event_id FROM processed_events WHERE consumer LIKE :c AND outcome = 'handled'"),
                                 {"c": f"%{RULES.name}"}).all()
            commands = conn.execute(text("SELECT recorded_at, event_type, data FROM event_store WHERE event_type = ANY(:types)"),
                                    {"types": list(OPERATOR_INPUTS)}).all()
    finally:
        engine.dispose()
    timeline = [(at, "fact", event_id) for at, event_id in facts] + [(at, "operator", data) for at, _, data in commands]
    return [(kind, what) for _, kind, what in sorted(timeline, key=lambda x: x[0])]


def _decisions(url: str, facts: set[str]) -> dict[tuple[str, str], Any]:
    """Published decisions by (type, decision id); causes that are alerts' own events (random ids) are only counted."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # Day-close watermark markers are plumbing, not decisions: the replay publishes none.
            rows = conn.execute(text("SELECT payload FROM outbox WHERE NOT all_partitions ORDER BY id")).all()
            payloads = [json.loads(bytes(r[0])) for r in rows]
    finally:
        engine.dispose()
    decisions = {}
    for envelope in payloads:
        data = dict(envelope["data"])
        causes = data.pop("caused_by", [])
        data["causes"] = sorted(c for c in causes if c in facts) + ["<alerts event>"] * sum(c not in facts for c in causes)
        decisions[(envelope["type"], data.get("decision_id") or data.get("exemption_id") or "")] = data
    return decisions


def _views(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    views = {}
    for case in CASES:
        for path in (f"/institutions/{case.institution}/invoices", f"/institutions/{case.institution}/alerts?include_closed=true",
                     f"/institutions/{case.institution}/volume-completion", f"/institutions/{case.institution}/non-winning",
                     f"/institutions/{case.institution}/kpis?month=2026-09", f"/manufacturers/{case.manufacturer}/missed-reports",
                     f"/institutions/{case.institution}/filing-warnings"):
            views[path] = stable(client.get(path, headers=headers).json())
    return views


def test_alerts_decisions_derived_again_from_the_facts_on_kafka_equal_the_live_ones(year_run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform's decisions are a function of the facts: a fresh alerts database fed the same envelopes in the
    same order decides the same deadlines, warnings, withholds, suspensions, caps, reports and KPIs."""
    system, _ = year_run
    facts = asyncio.run(_facts_on_kafka(system))
    order = _inputs_in_order(system.database_urls["alerts"])
    handled = [what for kind, what in order if kind == "fact"]
    assert len(handled) > 184 and set(handled) <= set(facts), "alerts handled every day close and more, all of them facts on Kafka"

    for name, value in system.extra_env.items():
        monkeypatch.setenv(name, value)
    FOLDED.reset()
    base = infra.postgres_base_url()
    url = infra.create_database(base, "e2e_replayed_alerts", template=infra.migrated_template(base, "alerts"))
    headers = auth_header("OPS", Role.OPERATOR)
    try:
        app = build_app(Settings(database_url=url, run_workers=False))
        with InProcessClient(app) as client:
            assert client.portal is not None
            consumer = app.state.runtime.event_consumer(RULES)
            run: list[Envelope] = []  # facts between two operator inputs, delivered as the consumer's batches take them

            def deliver_run() -> None:
                assert client.portal is not None
                assert client.portal.call(consumer.deliver_many, list(run)) == ["handled"] * len(run)
                run.clear()

            for kind, what in order:
                if kind == "fact":
                    run.append(facts[what])
                    continue
                deliver_run()  # the bureau's filing-purchase warning line, as operations set it
                line = {"amount": str(what["amount"]), "from_year": what["from_year"], "reason": what["reason"]}
                response = client.put(f"/institutions/{what['institution_id']}/filing-warning-line", json=line, headers=headers)
                assert response.status_code == 200, response.text
            deliver_run()
            replayed_views = _views(client, headers)
        with system.client("alerts", "OPS", Role.OPERATOR) as live:
            live_views = {path: stable(live.get(path).json()) for path in replayed_views}
        assert replayed_views == live_views
        assert _decisions(url, set(facts)) == _decisions(system.database_urls["alerts"], set(facts))
    finally:
        FOLDED.reset()
        infra.drop_database(url)
