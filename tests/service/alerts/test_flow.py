"""The alerts service on real PostgreSQL: events in through the real consumer path, decisions out
through the API and the outbox.

Guizhou (贵阳市 520100), real 2026 dates: invoice accepted 09-01, received 09-05
→ deadline Thu 10-08 (10-05 falls in the National Day holiday) → warned Fri
10-09 → withheld from Fri 10-23 (10 working days counting Saturday 10-10, a
make-up working day).
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from anyio.from_thread import BlockingPortal
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jicai_alerts.adapters.policy import FOLDED
from jicai_alerts.bootstrap import RULES
from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import DayClosed, InvoiceLine, InvoiceReceived, PaymentAllocation, PaymentRecorded
from jicai_kit.auth import Role
from jicai_kit.runtime import PolicyNotFolded
from jicai_policy import LIBRARY_YEARS
from tests.support.shared_apps import DEFAULT_APPS, DefaultApps, SharedApp, SharedApps

LAST_YEAR = max(LIBRARY_YEARS)

GUIYANG = "520100"
DEADLINE_SET = "cn.jicai.alerts.PaymentDeadlineSet.v1"
WARNED = "cn.jicai.alerts.PaymentOverdueWarned.v1"
WITHHELD = "cn.jicai.alerts.SettlementWithheld.v1"
RELEASED = "cn.jicai.alerts.SettlementReleased.v1"


def invoice(invoice_id: str = "INV-1", amount: str = "10000.00", accepted: date = date(2026, 9, 1),
            received: date = date(2026, 9, 5), region: str = GUIYANG) -> InvoiceReceived:
    return InvoiceReceived(
        invoice_id=invoice_id, invoice_number="52001234", institution_id="H001", pooling_region_code=region,
        distributor_id="D001", issued_on=accepted, received_on=received, amount=Decimal(amount),
        lines=(InvoiceLine(acceptance_id="A1", contract_id="C1", quantity=100, unit_price=Decimal("100.0000"),
                           amount=Decimal(amount), accepted_on=accepted),),
        latest_acceptance_on=accepted,
    )


def payment(payment_id: str, paid_on: date, **allocations: str) -> PaymentRecorded:
    shares = tuple(PaymentAllocation(invoice_id=i.replace("_", "-"), amount=Decimal(a)) for i, a in allocations.items())
    return PaymentRecorded(
        payment_id=payment_id, institution_id="H001", distributor_id="D001", paid_on=paid_on,
        amount=sum((s.amount for s in shares), Decimal("0.00")), allocations=shares,
    )


@dataclass
class Alerts:
    client: TestClient
    app: FastAPI
    url: str
    headers: dict[str, str]

    @property
    def portal(self) -> BlockingPortal:
        """The app's event loop, where its database engine lives."""
        assert self.client.portal is not None, "use the TestClient as a context manager"
        return self.client.portal

    def deliver(self, event: IntegrationEvent | Envelope) -> tuple[str, Envelope]:
        envelope = event if isinstance(event, Envelope) else Envelope.wrap(event, time=datetime.now(UTC))
        consumer = self.app.state.runtime.event_consumer(RULES)
        return self.portal.call(consumer.deliver, envelope), envelope

    def deliver_at_once(self, events: list[IntegrationEvent]) -> list[str]:
        """Deliver concurrently, each in its own transaction, as consumers on several partitions would."""
        consumer = self.app.state.runtime.event_consumer(RULES)

        async def all_at_once() -> list[str]:
            return list(await asyncio.gather(*(consumer.deliver(Envelope.wrap(e, time=datetime.now(UTC))) for e in events)))

        return self.portal.call(all_at_once)

    def close_days(self, first: date, last: date) -> list[Envelope]:
        envelopes = []
        while first <= last:
            envelopes.append(self.deliver(DayClosed(business_date=first))[1])
            first += timedelta(days=1)
        return envelopes

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        response = self.client.get(path, headers=self.headers if headers is None else headers)
        assert response.status_code == 200, response.text
        return response.json()

    def outbox(self) -> list[tuple[str, dict[str, Any]]]:
        with psycopg.connect(self.url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            rows = conn.execute("SELECT payload FROM outbox ORDER BY id").fetchall()
        return [(envelope["type"], envelope["data"]) for envelope in (json.loads(bytes(r[0])) for r in rows)]


build_alerts = DEFAULT_APPS["alerts"]


def shared_alerts(shared_apps: SharedApps, token: Callable[[str, Role], dict[str, str]], variant: str = "") -> Alerts:
    """The module's alerts app (one per ``variant``) on empty tables; its policy book is loaded afresh, from the
    environment the caller set."""
    return _alerts(shared_apps.fresh("alerts", build_alerts, variant), token)


def default_alerts(default_apps: DefaultApps, token: Callable[[str, Role], dict[str, str]]) -> Alerts:
    """The session's default alerts app on empty tables; its policy book is loaded afresh, from the environment the
    caller set."""
    return _alerts(default_apps.default("alerts"), token)


def _alerts(shared: SharedApp, token: Callable[[str, Role], dict[str, str]]) -> Alerts:
    return Alerts(shared.client, shared.app, shared.url, token("ops", Role.OPERATOR))


@pytest.fixture
def alerts(default_apps: DefaultApps, token: Callable[[str, Role], dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[Alerts]:
    monkeypatch.delenv("JICAI_POLICY_DIR", raising=False)
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    yield default_alerts(default_apps, token)
    FOLDED.reset()  # the packaged book for whatever runs next in this process


def test_invoice_gets_its_payment_deadline(alerts: Alerts) -> None:
    assert alerts.deliver(invoice())[0] == "handled"

    one = alerts.get("/invoices/INV-1")
    assert (one["deadline"], one["status"], one["amount"], one["outstanding"]) == ("2026-10-08", "open", "10000.00", "10000.00")
    assert (one["rule"], one["profile_id"], one["profile_version"]) == ("later_of_acceptance_and_invoice_plus_days", "guizhou-2020", 1)
    assert [i["invoice_id"] for i in alerts.get("/institutions/H001/invoices")] == ["INV-1"]
    [(kind, data)] = alerts.outbox()
    assert (kind, data["decision_id"], data["deadline"]) == (DEADLINE_SET, "deadline-INV-1", "2026-10-08")


def test_days_close_into_a_warning_then_a_withhold_and_payment_releases_it(alerts: Alerts) -> None:
    alerts.deliver(invoice())

    alerts.close_days(date(2026, 9, 5), date(2026, 10, 7))
    assert alerts.get("/institutions/H001/alerts") == []
    alerts.close_days(date(2026, 10, 8), date(2026, 10, 8))
    [warning] = alerts.get("/institutions/H001/alerts")
    assert (warning["kind"], warning["since"], warning["outstanding_amount"]) == ("overdue_warning", "2026-10-09", "10000.00")
    assert alerts.get("/clock")["last_closed_on"] == "2026-10-08"

    alerts.close_days(date(2026, 10, 9), date(2026, 10, 21))
    assert [a["kind"] for a in alerts.get("/institutions/H001/alerts")] == ["overdue_warning"]
    alerts.close_days(date(2026, 10, 22), date(2026, 10, 31))
    open_alerts = alerts.get("/institutions/H001/alerts")
    assert [(a["kind"], a["since"], a["status"]) for a in open_alerts] == [
        ("overdue_warning", "2026-10-09", "open"), ("settlement_withheld", "2026-10-23", "open"),
    ]
    one = alerts.get("/invoices/INV-1")
    assert (one["status"], one["warned_on"], one["withheld_from"]) == ("withheld", "2026-10-09", "2026-10-23")
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET, WARNED, WITHHELD]
    assert 'jicai_open_alerts{kind="settlement_withheld"} 1.0' in alerts.client.get("/metrics").text
    assert "jicai_overdue_amount_yuan 10000.0" in alerts.client.get("/metrics").text

    alerts.deliver(payment("P1", date(2026, 11, 3), INV_1="10000.00"))

    assert alerts.get("/institutions/H001/alerts") == []
    closed = alerts.get("/institutions/H001/alerts?include_closed=true")
    assert [(a["kind"], a["status"], a["closed_on"], a["closed_by"]) for a in closed] == [
        ("overdue_warning", "closed", "2026-11-03", "release-INV-1"),
        ("settlement_withheld", "closed", "2026-11-03", "release-INV-1"),
    ]
    one = alerts.get("/invoices/INV-1")
    assert (one["status"], one["released_on"], one["outstanding"]) == ("released", "2026-11-03", "0.00")
    kind, data = alerts.outbox()[-1]
    assert (kind, data["released_on"], data["withhold_decision_id"]) == (RELEASED, "2026-11-03", "withhold-INV-1")
    assert 'jicai_open_alerts{kind="settlement_withheld"} 0.0' in alerts.client.get("/metrics").text
    assert "jicai_overdue_amount_yuan 0.0" in alerts.client.get("/metrics").text


def test_one_day_close_far_ahead_decides_as_closing_every_day(alerts: Alerts) -> None:
    alerts.deliver(invoice())

    alerts.close_days(date(2026, 12, 31), date(2026, 12, 31))
    alerts.close_days(date(2026, 10, 1), date(2026, 10, 1))  # an older day changes nothing

    assert [(a["kind"], a["since"]) for a in alerts.get("/institutions/H001/alerts")] == [
        ("overdue_warning", "2026-10-09"), ("settlement_withheld", "2026-10-23"),
    ]
    assert alerts.get("/clock")["last_closed_on"] == "2026-12-31"
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET, WARNED, WITHHELD]


def test_every_event_delivered_twice_counts_once(alerts: Alerts) -> None:
    envelopes = [alerts.deliver(invoice())[1]]
    envelopes += alerts.close_days(date(2026, 10, 8), date(2026, 10, 8))
    envelopes.append(alerts.deliver(payment("P1", date(2026, 10, 12), INV_1="4000.00"))[1])
    envelopes += alerts.close_days(date(2026, 10, 22), date(2026, 10, 22))
    envelopes.append(alerts.deliver(payment("P2", date(2026, 10, 26), INV_1="6000.00"))[1])
    before = (alerts.get("/invoices/INV-1"), alerts.get("/institutions/H001/alerts?include_closed=true"), alerts.outbox())

    assert {alerts.deliver(envelope)[0] for envelope in envelopes} == {"duplicate"}
    # the settlement service publishing the same payment again, under a new envelope id
    assert alerts.deliver(payment("P1", date(2026, 10, 12), INV_1="4000.00"))[0] == "handled"

    after = (alerts.get("/invoices/INV-1"), alerts.get("/institutions/H001/alerts?include_closed=true"), alerts.outbox())
    assert after == before
    assert (after[0]["paid"], after[0]["status"]) == ("10000.00", "released")
    assert [kind for kind, _ in after[2]] == [DEADLINE_SET, WARNED, WITHHELD, RELEASED]


def test_payment_delivered_before_its_invoice_is_still_counted(alerts: Alerts) -> None:
    alerts.deliver(payment("P1", date(2026, 9, 20), INV_1="4000.00", INV_2="500.00"))
    alerts.deliver(payment("P2", date(2026, 10, 8), INV_1="6000.00"))
    alerts.deliver(invoice("INV-1"))
    alerts.deliver(invoice("INV-2", amount="800.00"))

    one, two = alerts.get("/invoices/INV-1"), alerts.get("/invoices/INV-2")
    assert (one["paid"], one["status"], one["next_decision_on"]) == ("10000.00", "paid", None)
    assert [p["payment_id"] for p in one["payments"]] == ["P1", "P2"]
    assert (two["paid"], two["outstanding"], two["status"]) == ("500.00", "300.00", "open")

    alerts.close_days(date(2026, 12, 31), date(2026, 12, 31))

    assert [(a["invoice_id"], a["kind"], a["outstanding_amount"]) for a in alerts.get("/institutions/H001/alerts")] == [
        ("INV-2", "overdue_warning", "300.00"), ("INV-2", "settlement_withheld", "300.00"),
    ]


def test_payments_and_invoices_arriving_at_the_same_time_never_miss_each_other(alerts: Alerts) -> None:
    ids = [f"INV-{n}" for n in range(1, 7)]
    events: list[IntegrationEvent] = [DayClosed(business_date=date(2026, 10, 8))]
    for n, invoice_id in enumerate(ids, start=1):
        events += [invoice(invoice_id, amount="100.00"), payment(f"P{n}", date(2026, 9, 30), **{invoice_id: "100.00"})]

    assert set(alerts.deliver_at_once(events)) == {"handled"}

    assert {i["invoice_id"]: (i["paid"], i["status"]) for i in alerts.get("/institutions/H001/invoices")} == {
        invoice_id: ("100.00", "paid") for invoice_id in ids
    }
    # Nothing is left open. (If the day close ran before a payment dated before the
    # deadline arrived, its warning was already published; the payment closes it.
    # Published decisions are closed by later ones, never silently erased.)
    assert alerts.get("/institutions/H001/alerts") == []
    for closed in alerts.get("/institutions/H001/alerts?include_closed=true"):
        assert (closed["kind"], closed["status"]) == ("overdue_warning", "closed")


def test_an_invoice_arriving_after_the_clock_passed_its_deadline_is_decided_at_once(alerts: Alerts) -> None:
    alerts.close_days(date(2026, 10, 15), date(2026, 10, 15))

    alerts.deliver(invoice())

    [warning] = alerts.get("/institutions/H001/alerts")
    assert (warning["kind"], warning["since"]) == ("overdue_warning", "2026-10-09")


def test_a_decision_explains_its_profile_rule_and_causes(alerts: Alerts) -> None:
    _, invoice_envelope = alerts.deliver(invoice())
    [closed_deadline_day] = alerts.close_days(date(2026, 10, 8), date(2026, 10, 8))
    [closed_grace_end] = alerts.close_days(date(2026, 10, 22), date(2026, 10, 22))

    warning = alerts.get("/decisions/warning-INV-1")
    assert (warning["event"]["type"], warning["decision"]["warned_on"]) == (WARNED, "2026-10-09")
    assert [(c["id"], c["type"], c["date"]) for c in warning["causes"]] == [
        (invoice_envelope.id, "cn.jicai.orders.InvoiceReceived.v1", "2026-09-05"),
        (closed_deadline_day.id, "cn.jicai.clock.DayClosed.v1", "2026-10-08"),
    ]

    withhold = alerts.get("/decisions/withhold-INV-1")
    assert (withhold["kind"], withhold["effective_on"], withhold["event"]["type"]) == ("settlement_withheld", "2026-10-23", WITHHELD)
    assert (withhold["decision"]["withheld_from"], withhold["decision"]["outstanding_amount"]) == ("2026-10-23", "10000.00")
    assert (withhold["decision"]["profile_id"], withhold["decision"]["profile_version"]) == ("guizhou-2020", 1)
    assert (withhold["profile"]["profile_id"], withhold["profile"]["version"]) == ("guizhou-2020", 1)
    term, overdue = withhold["parameters"]["payment_term"], withhold["parameters"]["overdue"]
    assert (term["rule"], term["days"]) == ("later_of_acceptance_and_invoice_plus_days", 30)
    assert (overdue["grace_working_days"], overdue["warning_schedule"]) == (10, "first_overdue_day")
    assert [(c["id"], c["type"], c["date"]) for c in withhold["causes"]] == [
        (warning["event"]["id"], WARNED, "2026-10-09"),
        (closed_grace_end.id, "cn.jicai.clock.DayClosed.v1", "2026-10-22"),
    ]
    assert withhold["calendar"]["2026"].startswith("chinesecalendar")
    assert alerts.client.get("/decisions/nope", headers=alerts.headers).status_code == 404


def test_a_region_without_profile_refuses_the_event_and_records_nothing(alerts: Alerts) -> None:
    with pytest.raises(PolicyNotFolded):  # the door refuses it; here only a lagging book could meet it: parked, retried
        alerts.deliver(invoice(region="110100"))  # Beijing: no profile

    assert alerts.client.get("/invoices/INV-1", headers=alerts.headers).status_code == 404
    assert alerts.outbox() == []


def test_an_institution_sees_only_its_own_records(alerts: Alerts, token: Callable[[str, Role], dict[str, str]]) -> None:
    alerts.deliver(invoice())

    assert alerts.get("/institutions/H001/invoices", headers=token("H001", Role.INSTITUTION))[0]["invoice_id"] == "INV-1"
    assert alerts.client.get("/institutions/H001/invoices", headers=token("H002", Role.INSTITUTION)).status_code == 403
    assert alerts.client.get("/invoices/INV-1", headers=token("H002", Role.INSTITUTION)).status_code == 403
    assert alerts.client.get("/invoices/INV-1").status_code == 401


def test_a_profile_without_withholding_warns_but_never_withholds(alerts: Alerts) -> None:
    # Hubei 003 §四(三): 30 days from warehouse entry; the notice has no withheld settlement.
    alerts.deliver(invoice(accepted=date(2026, 9, 1), received=date(2026, 9, 20), region="420100"))

    outcome, _ = alerts.deliver(DayClosed(business_date=date(2026, 12, 31)))

    assert outcome == "handled"
    one = alerts.get("/invoices/INV-1")
    # 09-01 + 30 days = 10-01, National Day → 10-08; the invoice date does not move it under this rule
    assert (one["deadline"], one["profile_id"], one["status"], one["warned_on"]) == ("2026-10-08", "hubei-2019", "overdue", "2026-10-09")
    assert [a["kind"] for a in alerts.get("/institutions/H001/alerts")] == ["overdue_warning"]
    assert alerts.get("/blocked-decisions") == []

    alerts.deliver(payment("P1", date(2027, 1, 4), INV_1="10000.00"))
    assert alerts.get("/institutions/H001/alerts") == []
    assert [kind for kind, _ in alerts.outbox()].count(WITHHELD) == 0


def test_the_longest_invoice_id_still_gets_every_decision(alerts: Alerts) -> None:
    """Invoice ids may be 64 characters: decision ids built from them (``withhold-…``) must not be refused."""
    longest = "INV-" + "9" * 60
    assert alerts.deliver(invoice(longest))[0] == "handled"
    alerts.close_days(date(2026, 9, 5), date(2026, 10, 31))
    assert [(a["kind"], a["alert_id"]) for a in alerts.get("/institutions/H001/alerts")] == [
        ("overdue_warning", f"warning-{longest}"), ("settlement_withheld", f"withhold-{longest}")]
    assert alerts.get(f"/decisions/withhold-{longest}")["decision"]["decision_id"] == f"withhold-{longest}"
