"""The settlement service on real PostgreSQL: what institutions, the fund and operators see.

Consumed events go through the real consumer code path (``deliver``): the
same idempotency claim, unit of work and handlers as a Kafka delivery.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from jicai_events import Envelope
from jicai_events.catalog import SettlementReleased, SettlementWithheld
from jicai_kit.auth import Role
from jicai_settlement.application import services
from jicai_settlement.bootstrap import DECISIONS
from jicai_settlement.domain.institution_settlement import ReportMonthlySettlement
from jicai_settlement.domain.payment import AllocationIn, RecordPayment
from tests.service.settlement.support import count as _count
from tests.service.settlement.support import deliver as _deliver
from tests.service.settlement.support import field as _field
from tests.service.settlement.support import invoice as _invoice
from tests.service.settlement.support import rows as _rows
from tests.service.settlement.support import until_blocked

Auth = Callable[[str, Role], dict[str, str]]


def _payment(payment_id: str, *allocations: tuple[str, str], amount: str | None = None, institution: str = "H1") -> dict[str, Any]:
    total = amount if amount is not None else str(sum(Decimal(a) for _, a in allocations))
    return {"payment_id": payment_id, "institution_id": institution, "distributor_id": "D1", "paid_on": "2026-03-20",
            "amount": total, "allocations": [{"invoice_id": i, "amount": a} for i, a in allocations], "reference": "BANK-TX-1"}


def _withheld(decision_id: str = "W1", invoice_id: str = "INV-1") -> SettlementWithheld:
    return SettlementWithheld(
        decision_id=decision_id, institution_id="H1", profile_id="guizhou-2020", profile_version=1, caused_by=("evt-warning-1",),
        invoice_id=invoice_id, warned_on=date(2026, 5, 1), withheld_from=date(2026, 5, 15), outstanding_amount=Decimal("300.00"),
    )


def _released(withhold_decision_id: str = "W1", decision_id: str = "R1") -> SettlementReleased:
    return SettlementReleased(
        decision_id=decision_id, institution_id="H1", profile_id="guizhou-2020", profile_version=1, caused_by=("evt-payment-2",),
        invoice_id="INV-1", withhold_decision_id=withhold_decision_id, released_on=date(2026, 6, 3),
    )


def _withheld_gauge(client: TestClient) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith("jicai_withheld_institutions "):
            return float(line.split()[1])
    raise AssertionError("jicai_withheld_institutions is not exported")


# ---- payments (回款) -------------------------------------------------------------------


def test_a_partial_payment_then_the_rest_settles_the_invoice(client: TestClient, db_url: str, h1: dict[str, str]) -> None:
    _invoice(client, "INV-1", "500.00")
    assert client.get("/invoices/INV-1", headers=h1).json() | {"payments": []} == {
        "invoice_id": "INV-1", "institution_id": "H1", "distributor_id": "D1", "received_on": "2026-03-02",
        "amount": "500.00", "amount_due": "500.00", "paid": "0.00", "outstanding": "500.00", "refundable_credit": "0.00",
        "status": "unpaid", "voided_on": None, "void_reason": None, "credit_notes": [], "payments": [],
    }
    first = client.post("/payments", json=_payment("PAY-1", ("INV-1", "300.00")), headers=h1)
    assert (first.status_code, first.json()) == (201, {"id": "PAY-1", "created": True})
    partly = client.get("/invoices/INV-1", headers=h1).json()
    assert (partly["paid"], partly["outstanding"], partly["status"]) == ("300.00", "200.00", "partially_paid")

    assert client.post("/payments", json=_payment("PAY-2", ("INV-1", "200.00")), headers=h1).status_code == 201
    paid = client.get("/invoices/INV-1", headers=h1).json()
    assert (paid["paid"], paid["outstanding"], paid["status"]) == ("500.00", "0.00", "paid")
    assert [(p["payment_id"], p["amount"]) for p in paid["payments"]] == [("PAY-1", "300.00"), ("PAY-2", "200.00")]
    listed = client.get("/institutions/H1/payments", headers=h1).json()
    assert [p["payment_id"] for p in listed] == ["PAY-1", "PAY-2"]
    published = _rows(db_url, "select message_key from outbox where convert_from(payload, 'UTF8') like '%PaymentRecorded%'")
    assert [r.message_key for r in published] == ["H1", "H1"]


def test_one_payment_pays_several_invoices(client: TestClient, h1: dict[str, str]) -> None:
    _invoice(client, "INV-1", "500.00")
    _invoice(client, "INV-2", "120.50")
    r = client.post("/payments", json=_payment("PAY-1", ("INV-1", "500.00"), ("INV-2", "100.00")), headers=h1)
    assert r.status_code == 201
    payment = client.get("/payments/PAY-1", headers=h1).json()
    assert payment["amount"] == "600.00" and payment["reference"] == "BANK-TX-1"
    assert payment["allocations"] == [{"invoice_id": "INV-1", "amount": "500.00"}, {"invoice_id": "INV-2", "amount": "100.00"}]
    assert client.get("/invoices/INV-1", headers=h1).json()["status"] == "paid"
    assert client.get("/invoices/INV-2", headers=h1).json()["outstanding"] == "20.50"


def test_an_overpayment_is_refused_showing_what_is_outstanding_and_nothing_is_recorded(
    client: TestClient, db_url: str, h1: dict[str, str]
) -> None:
    _invoice(client, "INV-1", "500.00")
    _invoice(client, "INV-2", "100.00")
    client.post("/payments", json=_payment("PAY-1", ("INV-2", "60.00")), headers=h1)
    events_before = _count(db_url, "select count(*) from event_store")
    outbox_before = _count(db_url, "select count(*) from outbox")

    r = client.post("/payments", json=_payment("PAY-2", ("INV-1", "100.00"), ("INV-2", "50.00")), headers=h1)
    assert _field(r) == "allocations[1].amount"
    assert "outstanding 40.00" in r.json()["detail"]
    assert (_count(db_url, "select count(*) from event_store"), _count(db_url, "select count(*) from outbox")) == (
        events_before, outbox_before)
    assert client.get("/payments/PAY-2", headers=h1).status_code == 404
    assert client.get("/invoices/INV-1", headers=h1).json()["paid"] == "0.00"
    assert client.get("/invoices/INV-2", headers=h1).json()["paid"] == "60.00"


def test_an_invoice_settlement_has_not_received_yet_is_refused_until_it_arrives(client: TestClient, h1: dict[str, str]) -> None:
    r = client.post("/payments", json=_payment("PAY-1", ("INV-7", "10.00")), headers=h1)
    assert _field(r) == "allocations[0].invoice_id"
    assert "not received" in r.json()["detail"]
    _invoice(client, "INV-7", "10.00")
    assert client.post("/payments", json=_payment("PAY-1", ("INV-7", "10.00")), headers=h1).status_code == 201


@pytest.mark.parametrize(("payment", "field"), [
    (_payment("PAY-1", ("INV-1", "100.00"), amount="150.00"), "allocations"),
    (_payment("PAY-1", ("INV-1", "100.00"), ("INV-1", "50.00")), "allocations[1].invoice_id"),
    (_payment("PAY-1", ("INV-1", "0.00")), "amount"),
    (_payment("PAY-1", ("INV-1", "10.00"), ("INV-2", "0.00")), "allocations[1].amount"),
    (_payment("PAY-1", ("INV-1", "10.001"), amount="10.00"), "allocations[0].amount"),
    ({**_payment("PAY-1", ("INV-1", "10.00")), "paid_on": "2026-02-30"}, "paid_on"),
    ({**_payment("PAY-1", ("INV-1", "10.00")), "allocations": []}, "allocations"),
])
def test_an_invalid_payment_names_the_field(client: TestClient, h1: dict[str, str], payment: dict[str, Any], field: str) -> None:
    _invoice(client, "INV-1", "500.00")
    _invoice(client, "INV-2", "500.00")
    assert _field(client.post("/payments", json=payment, headers=h1)) == field


def test_no_institution_pays_for_another(client: TestClient, h1: dict[str, str], token: Auth) -> None:
    _invoice(client, "INV-H2", "500.00", institution="H2")
    _invoice(client, "INV-D2", "500.00", distributor="D2")
    as_h2 = client.post("/payments", json=_payment("PAY-1", ("INV-H2", "10.00"), institution="H2"), headers=h1)
    assert as_h2.status_code == 403 and as_h2.json()["type"] == "urn:jicai:problem:forbidden"
    r = client.post("/payments", json=_payment("PAY-1", ("INV-H2", "10.00")), headers=h1)
    assert _field(r) == "allocations[0].invoice_id" and "not an invoice of institution H1" in r.json()["detail"]
    r = client.post("/payments", json=_payment("PAY-1", ("INV-D2", "10.00")), headers=h1)
    assert _field(r) == "allocations[0].invoice_id" and "D2" in r.json()["detail"]
    assert client.post("/payments", json=_payment("PAY-1", ("INV-H2", "10.00"))).status_code == 401
    d1 = token("D1", Role.DISTRIBUTOR)
    assert client.post("/payments", json=_payment("PAY-1", ("INV-H2", "10.00")), headers=d1).status_code == 403
    assert client.get("/invoices/INV-H2", headers=h1).status_code == 403
    assert client.get("/institutions/H2/payments", headers=h1).status_code == 403
    ops = client.post("/payments", json=_payment("PAY-1", ("INV-H2", "10.00"), institution="H2"),
                      headers=token("OPS", Role.OPERATOR))
    assert ops.status_code == 201
    assert client.get("/payments/PAY-1", headers=d1).status_code == 200


def test_the_same_payment_twice_is_recorded_once_and_other_content_under_its_id_conflicts(
    client: TestClient, db_url: str, h1: dict[str, str]
) -> None:
    _invoice(client, "INV-1", "500.00")
    first = client.post("/payments", json=_payment("PAY-1", ("INV-1", "500.00")), headers=h1)
    again = client.post("/payments", json=_payment("PAY-1", ("INV-1", "500.00")), headers=h1)
    assert (first.status_code, again.status_code, again.json()["created"]) == (201, 200, False)
    assert client.get("/invoices/INV-1", headers=h1).json()["paid"] == "500.00"
    assert _count(db_url, "select count(*) from outbox where convert_from(payload, 'UTF8') like '%PaymentRecorded%'") == 1
    other = client.post("/payments", json=_payment("PAY-1", ("INV-1", "400.00")), headers=h1)
    assert other.status_code == 409


def test_of_two_concurrent_payments_that_together_would_overpay_the_second_is_refused(
    client: TestClient, h1: dict[str, str]
) -> None:
    """The first payment has decided and written but not committed when the second arrives."""
    _invoice(client, "INV-1", "500.00")
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    first_cmd = RecordPayment(payment_id="PAY-A", institution_id="H1", distributor_id="D1", paid_on=date(2026, 3, 20),
                              amount=Decimal("400.00"), allocations=(AllocationIn("INV-1", Decimal("400.00")),))

    async def race() -> httpx.Response:
        first_written, commit_first = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with runtime.unit_of_work() as uow:
                assert await services.record_payment(uow, first_cmd)
                first_written.set()
                await commit_first.wait()

        first_task = asyncio.create_task(first())
        await first_written.wait()
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://settlement") as http:
            second = asyncio.create_task(http.post("/payments", json=_payment("PAY-B", ("INV-1", "200.00")), headers=h1))
            await until_blocked(runtime, second)
            commit_first.set()
            await first_task
            return await second

    second = client.portal.call(race)  # type: ignore[union-attr]
    assert _field(second) == "allocations[0].amount"
    assert "outstanding 100.00" in second.json()["detail"]
    invoice = client.get("/invoices/INV-1", headers=h1).json()
    assert (invoice["paid"], invoice["outstanding"]) == ("400.00", "100.00")
    assert client.get("/payments/PAY-B", headers=h1).status_code == 404


def test_an_invoice_delivered_twice_is_recorded_once(client: TestClient, db_url: str) -> None:
    _invoice(client, "INV-1", "500.00")
    _invoice(client, "INV-1", "500.00")  # a fresh envelope: the orders service published it again
    assert _count(db_url, "select count(*) from event_store where stream_id = 'invoice-INV-1'") == 1
    assert _count(db_url, "select count(*) from invoices") == 1


# ---- withheld monthly settlement (暂缓拨付) ---------------------------------------------


def test_a_withhold_decision_withholds_the_monthly_settlement_reported_then(
    client: TestClient, db_url: str, h1: dict[str, str], fund: dict[str, str]
) -> None:
    assert client.get("/institutions/H1/settlement-status", headers=h1).json()["status"] == "normal"
    assert _deliver(client, DECISIONS, _withheld()) == "handled"

    status = client.get("/institutions/H1/settlement-status", headers=h1).json()
    assert status["status"] == "withheld"
    assert status["active_withholds"] == [{
        "decision_id": "W1", "invoice_id": "INV-1", "warned_on": "2026-05-01", "withheld_from": "2026-05-15",
        "outstanding_amount": "300.00", "profile_id": "guizhou-2020", "profile_version": 1,
    }]
    assert _withheld_gauge(client) == 1

    r = client.post("/monthly-settlements", json={"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05",
                                                  "amount": "120000.00"}, headers=fund)
    assert (r.status_code, r.json()["status"]) == (201, "withheld")
    [settlement] = client.get("/institutions/H1/monthly-settlements", headers=h1).json()
    assert (settlement["status"], settlement["amount"], settlement["withheld_by"]) == ("withheld", "120000.00", ["W1"])
    assert "W1" in settlement["reason"] and "INV-1" in settlement["reason"]
    reported = _rows(db_url, "select convert_from(payload, 'UTF8') from outbox where convert_from(payload, 'UTF8') "
                             "like '%MonthlySettlementReported%'")
    assert len(reported) == 1 and '"status":"withheld"' in reported[0][0]


def test_the_release_makes_the_institution_normal_and_releases_the_withheld_settlement(
    client: TestClient, h1: dict[str, str], fund: dict[str, str]
) -> None:
    _deliver(client, DECISIONS, _withheld())
    client.post("/monthly-settlements", json={"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05",
                                              "amount": "120000.00"}, headers=fund)
    assert _deliver(client, DECISIONS, _released()) == "handled"

    status = client.get("/institutions/H1/settlement-status", headers=h1).json()
    assert (status["status"], status["active_withholds"]) == ("normal", [])
    assert [(h["kind"], h["on"], h["decision_id"]) for h in status["history"]] == [
        ("withheld", "2026-05-15", "W1"), ("released", "2026-06-03", "R1")]
    [settlement] = client.get("/institutions/H1/monthly-settlements", headers=fund).json()
    released = (settlement["status"], settlement["released_on"], settlement["release_decision_id"])
    assert released == ("released", "2026-06-03", "R1")
    assert "W1" in settlement["reason"]
    assert _withheld_gauge(client) == 0

    later = client.post("/monthly-settlements", json={"settlement_id": "MS-2", "institution_id": "H1", "month": "2026-06",
                                                      "amount": "90000.00"}, headers=fund)
    assert later.json()["status"] == "issued"
    issued = client.get("/institutions/H1/monthly-settlements", headers=fund).json()[1]
    assert issued["status"] == "issued" and issued["reason"]


def test_decisions_about_the_longest_invoice_ids_withhold_and_release(client: TestClient, h1: dict[str, str]) -> None:
    """A 64-character invoice id makes decision ids of 73+ characters (withhold-…, release-…)."""
    longest = "INV-" + "9" * 60
    assert _deliver(client, DECISIONS, _withheld(f"withhold-{longest}", longest)) == "handled"
    assert client.get("/institutions/H1/settlement-status", headers=h1).json()["status"] == "withheld"
    assert _deliver(client, DECISIONS, _released(f"withhold-{longest}", f"release-{longest}")) == "handled"
    status = client.get("/institutions/H1/settlement-status", headers=h1).json()
    assert status["status"] == "normal" and status["history"][-1]["decision_id"] == f"release-{longest}"


def test_the_same_decision_delivered_twice_changes_nothing(client: TestClient, db_url: str, h1: dict[str, str]) -> None:
    envelope = Envelope.wrap(_withheld(), time=datetime.now(UTC))
    assert _deliver(client, DECISIONS, envelope) == "handled"
    assert _deliver(client, DECISIONS, envelope) == "duplicate"
    assert _deliver(client, DECISIONS, _withheld()) == "handled"  # republished under a new envelope id
    assert _count(db_url, "select count(*) from event_store where stream_id = 'institution-settlement-H1'") == 1

    release = Envelope.wrap(_released(), time=datetime.now(UTC))
    _deliver(client, DECISIONS, release)
    assert _deliver(client, DECISIONS, release) == "duplicate"
    _deliver(client, DECISIONS, _released())
    _deliver(client, DECISIONS, _withheld())  # the old withhold again after its release does not withhold again
    assert _count(db_url, "select count(*) from event_store where stream_id = 'institution-settlement-H1'") == 2
    status = client.get("/institutions/H1/settlement-status", headers=h1).json()
    assert status["status"] == "normal" and len(status["history"]) == 2


def test_a_monthly_settlement_is_reported_once_by_the_fund_only(
    client: TestClient, h1: dict[str, str], fund: dict[str, str], token: Auth
) -> None:
    body = {"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05", "amount": "120000.00"}
    assert _field(client.post("/monthly-settlements", json=body, headers=fund)) == "institution_id"  # settlement knows nothing of H1 yet
    _invoice(client, "INV-1", "500.00")
    _invoice(client, "INV-2", "500.00", institution="H2")
    assert client.post("/monthly-settlements", json=body, headers=h1).status_code == 403
    assert client.post("/monthly-settlements", json=body, headers=fund).status_code == 201
    again = client.post("/monthly-settlements", json=body, headers=token("OPS", Role.OPERATOR))
    assert (again.status_code, again.json()) == (200, {"id": "MS-1", "created": False, "status": "issued"})
    assert client.post("/monthly-settlements", json={**body, "amount": "1.00"}, headers=fund).status_code == 409
    assert client.post("/monthly-settlements", json={**body, "institution_id": "H2"}, headers=fund).status_code == 409
    assert _field(client.post("/monthly-settlements", json={**body, "month": "2026-13"}, headers=fund)) == "month"
    assert len(client.get("/institutions/H1/monthly-settlements", headers=fund).json()) == 1
    assert client.get("/institutions/H1/monthly-settlements", headers=token("H2", Role.INSTITUTION)).status_code == 403


def test_a_release_of_a_withhold_settlement_never_saw_is_not_silently_skipped(client: TestClient) -> None:
    from jicai_events.subscriptions import Unprocessable

    with pytest.raises(Unprocessable, match="W-unknown"):
        _deliver(client, DECISIONS, _released("W-unknown"))


def test_read_models_rebuild_from_the_event_store(client: TestClient, h1: dict[str, str], fund: dict[str, str]) -> None:
    from jicai_settlement.adapters.repository import streams
    from jicai_settlement.adapters.tables import READ_MODELS

    _invoice(client, "INV-1", "500.00")
    client.post("/payments", json=_payment("PAY-1", ("INV-1", "300.00")), headers=h1)
    _deliver(client, DECISIONS, _withheld())
    client.post("/monthly-settlements", json={"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05",
                                              "amount": "1.00"}, headers=fund)
    _deliver(client, DECISIONS, _released())
    reads = ["/invoices/INV-1", "/payments/PAY-1", "/institutions/H1/settlement-status", "/institutions/H1/monthly-settlements"]
    before = [client.get(path, headers=h1).json() for path in reads]
    runtime = client.app.state.runtime  # type: ignore[attr-defined]

    async def rebuild() -> int:
        async with runtime.unit_of_work() as uow:
            return await streams.rebuild(uow, READ_MODELS)

    assert client.portal.call(rebuild) == 7  # type: ignore[union-attr]
    assert [client.get(path, headers=h1).json() for path in reads] == before


def test_a_released_settlement_is_published_with_its_month_amount_and_why(
    client: TestClient, db_url: str, fund: dict[str, str]
) -> None:
    _deliver(client, DECISIONS, _withheld())
    client.post("/monthly-settlements", json={"settlement_id": "MS-1", "institution_id": "H1", "month": "2026-05",
                                              "amount": "120000.00"}, headers=fund)
    sql = "select convert_from(payload, 'UTF8') from outbox where convert_from(payload, 'UTF8') like '%MonthlySettlementReleased%'"
    assert _rows(db_url, sql) == []
    _deliver(client, DECISIONS, _released())
    _deliver(client, DECISIONS, _released())  # the release decision again: released once, published once
    [(payload,)] = _rows(db_url, sql)
    for part in ('"settlement_id":"MS-1"', '"month":"2026-05"', '"amount":"120000.00"', '"released_on":"2026-06-03"', "W1", "R1"):
        assert part in payload


def test_one_settlement_id_reported_concurrently_for_two_institutions_is_a_conflict_not_an_error(
    client: TestClient, fund: dict[str, str]
) -> None:
    """The first report has written but not committed when the second, for another institution, arrives."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    _invoice(client, "INV-2", "500.00", institution="H2")  # settlement knows H2
    first_cmd = ReportMonthlySettlement(settlement_id="MS-1", institution_id="H1", month="2026-05", amount=Decimal("1.00"))

    async def race() -> httpx.Response:
        first_written, commit_first = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with runtime.unit_of_work() as uow:
                await services.report_monthly_settlement(uow, first_cmd)
                first_written.set()
                await commit_first.wait()

        first_task = asyncio.create_task(first())
        await first_written.wait()
        body = {"settlement_id": "MS-1", "institution_id": "H2", "month": "2026-05", "amount": "1.00"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app), base_url="http://settlement") as http:
            second = asyncio.create_task(http.post("/monthly-settlements", json=body, headers=fund))
            await until_blocked(runtime, second)
            commit_first.set()
            await first_task
            return await second

    second = client.portal.call(race)  # type: ignore[union-attr]
    assert second.status_code == 409, second.text
    assert "another institution" in second.json()["detail"]
    assert [s["institution_id"] for s in client.get("/institutions/H1/monthly-settlements", headers=fund).json()] == ["H1"]
    assert client.get("/institutions/H2/monthly-settlements", headers=fund).json() == []


def test_metrics_asked_by_name_are_those_alone(client: TestClient) -> None:
    """``/metrics?name[]=…`` (Prometheus' own convention): a probe of one gauge gets that gauge, not the whole page."""
    _deliver(client, DECISIONS, _withheld())
    only = client.get("/metrics", params={"name[]": ["jicai_withheld_institutions"]}).text
    assert {line.split()[2] for line in only.splitlines() if line.startswith("# TYPE")} == {"jicai_withheld_institutions"}
    assert "jicai_withheld_institutions 1.0" in only.splitlines()
    assert "# TYPE jicai_events_consumed_total counter" in client.get("/metrics").text
