"""The whole system as separate processes, driven only through its public APIs."""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx

from jicai_devstack import launcher
from jicai_devstack import services as procs
from jicai_devstack._proc import free_port
from jicai_kit.auth import Role
from jicai_kit.clock import publish_day_closed
from tests.support import infra
from tests.support.tokens import bearer

T = TypeVar("T")


@dataclass
class System:
    run_dir: Path
    bootstrap: str
    namespace: str
    database_urls: dict[str, str]
    processes: dict[str, procs.ServiceProcess] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    def start(self, name: str | None = None, env: dict[str, str] | None = None) -> dict[str, float]:
        """Start one service or all (``env``: settings of this start only); returns seconds until each was ready."""
        names = [name] if name else list(procs.SERVICES)
        for n in names:
            port = self.processes[n].port if n in self.processes else free_port()
            extra = {"JICAI_KAFKA_NAMESPACE": self.namespace, **self.extra_env, **(env or {})}
            env = procs.service_env(n, self.database_urls[n], self.bootstrap, extra)
            self.processes[n] = procs.start_service(self.run_dir, n, port, env)
        return {n: procs.wait_ready(self.processes[n], self.run_dir) for n in names}

    def kill(self, name: str) -> None:
        procs.stop_service(self.run_dir, name, kill=True)

    def stop_all(self) -> None:
        """Stop every service gracefully, all at once (each finishes its batch and leaves its groups)."""
        with ThreadPoolExecutor(len(procs.SERVICES)) as stopping:
            list(stopping.map(partial(procs.stop_service, self.run_dir), procs.SERVICES))

    def client(self, name: str, party: str | None = None, role: Role | None = None) -> httpx.Client:
        headers = {}
        if party and role:
            headers["Authorization"] = f"Bearer {bearer(party, role)}"
        return httpx.Client(base_url=self.processes[name].url, headers=headers, timeout=30, verify=procs.local_tls())

    def close_days(self, first: date, last: date) -> None:
        """Move business time forward: publish DayClosed for each day (as the scheduler would)."""
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        asyncio.run(publish_day_closed(self.bootstrap, days, self.namespace))

    def start_second_instance(self, name: str) -> procs.ServiceProcess:
        """Another process of ``name`` in the same consumer groups and database (scale-out), ready."""
        extra = {"JICAI_KAFKA_NAMESPACE": self.namespace, **self.extra_env}
        env = procs.service_env(name, self.database_urls[name], self.bootstrap, extra)
        second = procs.start_service(self.run_dir / "second", name, free_port(), env)
        procs.wait_ready(second, self.run_dir / "second")
        return second

    def kill_second_instance(self, name: str) -> None:
        procs.stop_service(self.run_dir / "second", name, kill=True)

    def stop(self, name: str) -> None:
        procs.stop_service(self.run_dir, name)

    def metrics(self, name: str, *only: str) -> str:
        """``name``'s Prometheus text (``only``: just these metrics)."""
        return httpx.get(f"{self.processes[name].url}/metrics", params={"name[]": list(only)}, timeout=10, verify=procs.local_tls()).text


def start_system(tag: str, env: dict[str, str] | None = None, pg_base: str | None = None, bootstrap: str | None = None) -> System:
    """All four services on their own databases (on ``pg_base``, default the suite's cluster), topics and groups (on
    ``bootstrap``, default the suite's broker).

    On the suite's cluster each database is a copy of the service's template, migrated once per run by the same
    Alembic history (``tests.support.infra``); ``jicai-serve`` then finds it at head. A cluster of the test's own
    starts empty and each service migrates its database as it starts."""
    preloaded = launcher.active()
    if preloaded is not None:
        preloaded.start()  # its imports overlap the databases' creation
    base = pg_base or infra.postgres_base_url()
    urls = {n: infra.create_database(base, f"e2e_{tag}_{n}", template=None if pg_base else infra.migrated_template(base, n))
            for n in procs.SERVICES}
    unique = f"e2e-{tag}-{uuid.uuid4().hex[:6]}"
    # Own topics and consumer groups: systems of other tests on the broker stay invisible.
    system = System(run_dir=infra.TEST_RUN_DIR / unique, bootstrap=bootstrap or infra.kafka_bootstrap(), namespace=unique + ".",
                    database_urls=urls, extra_env=env or {})
    system.start()
    return system


def eventually(probe: Callable[[], T | None], *, timeout: float = 60.0, what: str = "condition") -> T:
    """Poll ``probe`` until it returns a truthy value (events travel asynchronously); returns that value."""
    deadline = time.monotonic() + timeout
    last: object = None
    pause = 0.02  # most conditions hold within a few hops of a few milliseconds; a longer wait is asked less often
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
            last = value
        except (AssertionError, httpx.HTTPError, KeyError, IndexError) as exc:
            last = exc
        time.sleep(pause)
        pause = min(pause * 1.5, 0.1)  # a day close takes ~0.3 s: asked at most 0.1 s late, not 0.25 s
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def sign_contract(system: System, hospital: str, distributor: str, suffix: str, region: str = "520100") -> None:
    """A Guiyang hospital, a manufacturer, a distributor, a winning product (P-{suffix}) and its contract (C-{suffix}) for
    2026, recorded through the contracts API."""
    with system.client("contracts", "OPS", Role.OPERATOR) as ops:
        for path, body in (
            ("/institutions", {"institution_id": hospital, "name": "贵阳市某医院", "pooling_region_code": region, "county_code": "520102"}),
            ("/manufacturers", {"party_id": f"M-{suffix}", "name": "某制药股份有限公司"}),
            ("/distributors", {"party_id": distributor, "name": "某医药物流有限公司"}),
            ("/winning-products", {"product_id": f"P-{suffix}", "batch_id": "GJ-VBP-2", "generic_name": "阿托伐他汀钙片", "dosage_form": "片剂",
                                   "specification": "20mg*7片", "manufacturer_id": f"M-{suffix}", "winning_unit_price": "1.9800",
                                   "trading_unit": "盒"}),
            ("/contracts", {"contract_id": f"C-{suffix}", "institution_id": hospital, "manufacturer_id": f"M-{suffix}",
                            "distributor_id": distributor, "product_id": f"P-{suffix}", "unit_price": "1.98", "agreed_quantity": 12000,
                            "cycle_start": "2026-01-01", "cycle_end": "2026-12-31", "signed_on": "2025-12-20"}),
        ):
            r = ops.post(path, json=body)
            assert r.status_code in (200, 201), r.text
