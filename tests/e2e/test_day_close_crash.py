"""A day close killed between its chunks resumes where it stopped: each invoice warned exactly once. Real Kafka/PostgreSQL.

Twelve invoices of one Guiyang hospital fall overdue on the same day; alerts
closes days one invoice per chunk (``JICAI_DAY_CLOSE_CHUNK_SIZE=1``). The test
holds the last invoice's lock (the one a payment or a chunk takes), so the close
stops part-way, deterministically: ``GET /clock`` shows every other invoice
decided and the last chunk waiting. Then alerts is killed (SIGKILL) inside that
chunk, the lock goes, and alerts starts again: it resumes the close from its queue
(the killed chunk's invoice queued again), and every invoice has one warning:
one decision, one alert, one ``PaymentOverdueWarned`` in its outbox.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from jicai_devstack import services as procs
from jicai_kit.auth import Role
from tests.e2e.system import System, eventually, sign_contract, start_system
from tests.support.alerts_state import holding_invoices

pytestmark = pytest.mark.e2e

HOSPITAL, REGION, DISTRIBUTOR = "H-CLOSE", "520100", "D-CLOSE"
INVOICES = 12
RECEIVED = date(2026, 10, 12)


@pytest.fixture(scope="module")
def system() -> Iterator[System]:
    system = start_system("dayclose", env={"JICAI_DAY_CLOSE_CHUNK_SIZE": "1"})
    try:
        yield system
    finally:
        system.stop_all()


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201, 202), r.text
    body: dict[str, Any] = r.json()
    return body


def _set_up(system: System) -> date:
    """Contract, acceptances and the invoices, all received the same day; returns their deadline."""
    sign_contract(system, HOSPITAL, DISTRIBUTOR, "CLOSE")
    push = {"lines": [{"external_id": f"CLOSE-{i}", "contract_id": "C-CLOSE", "accepted_quantity": 10, "rejected_quantity": 0,
                       "accepted_on": "2026-10-10", "lot_number": "A2610"} for i in range(INVOICES)]}
    with system.client("orders", HOSPITAL, Role.INSTITUTION) as his:
        eventually(lambda: all(x["status"] in ("accepted", "duplicate")
                               for x in _ok(his.post(f"/institutions/{HOSPITAL}/acceptances:batch", json=push))["results"]),
                   what="orders to know the contract")
    with system.client("orders", DISTRIBUTOR, Role.DISTRIBUTOR) as distributor:
        for i in range(INVOICES):
            _ok(distributor.post("/invoices", json={
                "invoice_id": f"INV-CLOSE-{i:02d}", "invoice_number": f"5227{i:04d}", "distributor_id": DISTRIBUTOR,
                "institution_id": HOSPITAL, "issued_on": RECEIVED.isoformat(), "received_on": RECEIVED.isoformat(), "amount": "19.80",
                "lines": [{"acceptance_id": f"{HOSPITAL}:CLOSE-{i}", "quantity": 10}]}))
    with system.client("alerts", "OPS", Role.OPERATOR) as alerts:
        def every_invoice() -> list[dict[str, Any]] | None:
            invoices: list[dict[str, Any]] = alerts.get(f"/institutions/{HOSPITAL}/invoices").json()
            return invoices if len(invoices) == INVOICES else None

        tracked = eventually(every_invoice, what="alerts to track every invoice")
    deadlines = {i["deadline"] for i in tracked}
    assert len(deadlines) == 1, deadlines
    return date.fromisoformat(deadlines.pop())


def _clock(system: System) -> dict[str, Any]:
    return _ok(httpx.get(f"{system.processes['alerts'].url}/clock", timeout=10, verify=procs.local_tls()))


def _if_waiting(system: System, closing: dict[str, Any] | None) -> dict[str, Any] | None:
    """``closing`` once alerts waits for an advisory lock (the held invoice's)."""
    if closing is None:
        return None
    with psycopg.connect(system.database_urls["alerts"].replace("postgresql+psycopg://", "postgresql://")) as conn:
        # This database's waiters only: the cluster is the whole run's (other workers' tests and templates wait too).
        waiting = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                               " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
    # Every other invoice decided too: a second chunk taker of the process may still be deciding earlier ones when the
    # first starts waiting (JICAI_DAY_CLOSE_CHUNKS_AT_ONCE).
    return closing if waiting and waiting[0] and closing["decided"] == INVOICES - 1 else None


def _close_and_wait(system: System, first: date, last: date) -> None:
    with system.client("settlement", "OPS", Role.OPERATOR) as ops:
        _ok(ops.post("/clock/days", json={"first": first.isoformat(), "last": last.isoformat()}))
    eventually(lambda: _clock(system)["last_closed_on"] == last.isoformat(), timeout=120, what=f"alerts to decide {last}")


def test_a_day_close_killed_between_chunks_resumes_and_warns_each_invoice_once(system: System) -> None:
    deadline = _set_up(system)
    _close_and_wait(system, deadline - timedelta(days=1), deadline - timedelta(days=1))  # the clock may skip the quiet days

    last = f"INV-CLOSE-{INVOICES - 1:02d}"  # chunks go in invoice id order: the last one waits for it
    with holding_invoices(system.database_urls["alerts"], [last]) as release:
        with system.client("settlement", "OPS", Role.OPERATOR) as ops:
            _ok(ops.post("/clock/days", json={"first": deadline.isoformat()}))
        seen = eventually(lambda: _if_waiting(system, _clock(system)["closing"]), what="the close part-way, waiting for the held invoice")
        assert seen["decided"] == INVOICES - 1 and seen["invoices_due"] == INVOICES, seen
        system.kill("alerts")
        release()
    system.start("alerts")

    after_restart = _clock(system)
    if after_restart["closing"] is not None:  # not finished yet: the queue holds what the killed process had not committed
        assert after_restart["closing"]["decided"] >= seen["decided"]
        assert after_restart["last_closed_on"] == (deadline - timedelta(days=1)).isoformat()
    eventually(lambda: _clock(system)["last_closed_on"] == deadline.isoformat(), timeout=120, what="the close to resume and finish")
    assert _clock(system)["closing"] is None

    with system.client("alerts", "OPS", Role.OPERATOR) as alerts:
        invoices = alerts.get(f"/institutions/{HOSPITAL}/invoices").json()
        assert {(i["status"], i["warned_on"]) for i in invoices} == {("overdue", (deadline + timedelta(days=1)).isoformat())}
        warnings = alerts.get(f"/institutions/{HOSPITAL}/alerts").json()
        assert sorted(a["invoice_id"] for a in warnings) == [f"INV-CLOSE-{i:02d}" for i in range(INVOICES)]
    with psycopg.connect(system.database_urls["alerts"].replace("postgresql+psycopg://", "postgresql://")) as conn:
        published = [json.loads(bytes(p)) for (p,) in conn.execute("SELECT payload FROM outbox").fetchall()]
        stored = conn.execute("SELECT count(*) FROM event_store WHERE event_type = 'PaymentOverdueWarned'").fetchone()
    warned = [e["data"]["invoice_id"] for e in published if e["type"].endswith("PaymentOverdueWarned.v1")]
    assert sorted(warned) == [f"INV-CLOSE-{i:02d}" for i in range(INVOICES)]  # each once: none lost, none twice
    assert stored == (INVOICES,)
