"""PostgreSQL killed mid-flow (kill -9 of the whole server): nothing acknowledged is lost. Real Kafka.

Hospitals keep paying while the database server crashes and comes back. A
payment settlement answered 201 for is never sent again, so if a commit it
acknowledged were lost, its amount would be missing below. Failed requests
(503 while the server is away) are repeated, as an integrator does; writes are
idempotent, so each payment counts once. Every acknowledged payment must be
in settlement and in alerts, the consumer that learns of it through Kafka.
"""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from pathlib import Path

import httpx
import pytest

from jicai_devstack import _proc
from jicai_devstack.postgres import stop_postgres
from jicai_kit.auth import Role
from tests.e2e.system import eventually, start_system
from tests.e2e.test_day_close_waits_for_facts import DISTRIBUTOR, HOSPITAL, _set_up
from tests.infra.test_postgres_crash_safety import _children
from tests.support import infra

pytestmark = pytest.mark.e2e

PAYMENTS = 24
"""Eight per invoice (three invoices); a quarter of them before the crash, the rest across it and after."""
SHARE = Decimal("0.10")


@pytest.fixture
def pg_run_dir() -> Iterator[Path]:
    # Not tmp_path: the PostgreSQL OS user cannot traverse /tmp/pytest-of-root (0700).
    root = Path(tempfile.mkdtemp(prefix="jicai-e2e-crash-", dir="/tmp"))
    root.chmod(0o755)
    yield root / "postgres"
    stop_postgres(root / "postgres")
    shutil.rmtree(root, ignore_errors=True)


def _pay_until_answered(cashier: httpx.Client, n: int, invoice_id: str) -> int:
    """POST one payment until it has an answer (201/200); returns how many tries it took."""
    body = {"payment_id": f"PAY-CRASH-{n}", "institution_id": HOSPITAL, "distributor_id": DISTRIBUTOR, "paid_on": "2026-11-10",
            "amount": str(SHARE), "allocations": [{"invoice_id": invoice_id, "amount": str(SHARE)}]}
    for attempt in range(1, 600):
        try:
            r = cashier.post("/payments", json=body)
        except httpx.HTTPError:
            r = None
        if r is not None and r.status_code in (200, 201):
            return attempt
        assert r is None or r.status_code == 503, r.text  # the server away: "retry", never a 500 or a refusal
        time.sleep(0.2)
    raise AssertionError(f"payment {n} never answered")


def test_a_database_crash_mid_flow_loses_no_acknowledged_write(pg_run_dir: Path) -> None:
    pg = infra.start_test_postgres(pg_run_dir)
    system = start_system("pgcrash", pg_base=pg.url_base)
    try:
        invoices = [invoice_id for invoice_id, _ in _set_up(system)]
        answered: list[int] = []
        with system.client("settlement", HOSPITAL, Role.INSTITUTION) as cashier:
            def pay() -> None:
                for n in range(PAYMENTS):
                    _pay_until_answered(cashier, n, invoices[n % len(invoices)])
                    answered.append(n)

            payer = threading.Thread(target=pay)
            payer.start()
            eventually(lambda: len(answered) >= PAYMENTS // 4, what="payments before the crash")
            server = [pg.pid, *_children(pg.pid)] if pg.pid else []
            for pid in server:  # the whole server at once, as a crash
                os.kill(pid, signal.SIGKILL)
            assert all(_proc.wait_dead(pid, 30.0) for pid in server)
            crashed_after = len(answered)
            infra.start_test_postgres(pg_run_dir)
            payer.join(timeout=300)
            assert not payer.is_alive() and len(answered) == PAYMENTS
        assert crashed_after < PAYMENTS, "the crash came after the last payment"

        per_invoice = {i: SHARE * len(range(k, PAYMENTS, len(invoices))) for k, i in enumerate(invoices)}
        with system.client("settlement", "OPS", Role.OPERATOR) as settlement, system.client("alerts", "OPS", Role.OPERATOR) as alerts:
            for invoice_id, paid in per_invoice.items():
                eventually(partial(_paid_is, settlement, invoice_id, paid), what=f"settlement to hold every payment of {invoice_id}", timeout=120)
                eventually(partial(_paid_is, alerts, invoice_id, paid), what=f"alerts to count every payment of {invoice_id}", timeout=120)
            for n in range(PAYMENTS):
                assert settlement.get(f"/payments/PAY-CRASH-{n}").status_code == 200
    finally:
        system.stop_all()


def _paid_is(service: httpx.Client, invoice_id: str, paid: Decimal) -> bool:
    return Decimal(service.get(f"/invoices/{invoice_id}").json()["paid"]) == paid
