"""A dead-lettered invoice redriven after the days closed over it is decided as of its own business dates.

Guizhou (贵阳市 520100): invoice accepted 09-01, received 09-05 → deadline Thu 10-08 → warned 10-09 →
withheld from 10-23. Here the invoice is refused once on its way in (a business verdict, e.g. a
reference the rules did not know yet) and dead-lettered; days 09-05 … 10-31 close without it; the
operator redrives it over REST once the cause is gone. The result must equal a clean run's.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest
from typer.testing import CliRunner

from jicai_alerts.bootstrap import RULES
from jicai_events import Envelope
from jicai_events.catalog import InvoiceReceived
from jicai_events.dead_letters import Origin
from jicai_events.subscriptions import Subscription, Unprocessable
from jicai_events.topics import ORDERS
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Role
from jicai_kit.dead_letters_cli import app as cli_app
from tests.service.alerts.test_flow import Alerts, alerts, invoice, shared_alerts
from tests.support.shared_apps import SharedApps

__all__ = ["alerts"]

FIRST_DAY, LAST_DAY = date(2026, 9, 5), date(2026, 10, 31)


@pytest.fixture
def clean_run(shared_apps: SharedApps, token: Callable[[str, Role], dict[str, str]], alerts: Alerts) -> Alerts:
    """A second alerts service on its own database: the run where nothing was refused."""
    return shared_alerts(shared_apps, token, "clean run")


async def _refuse(uow: UnitOfWork, envelope: Envelope, event: InvoiceReceived) -> None:
    raise Unprocessable(f"invoice {event.invoice_id} names acceptance A1, not known yet")


def _decisions(alerts: Alerts) -> tuple[Any, ...]:
    """What a user sees of the invoice: its record, its alerts and the decisions published."""
    published = [(kind, {k: v for k, v in data.items() if k.endswith(("_on", "_from", "deadline", "decision_id"))})
                 for kind, data in alerts.outbox()]
    return alerts.get("/invoices/INV-1"), alerts.get("/institutions/H001/alerts?include_closed=true"), published


def _dead_letter_the_invoice(alerts: Alerts) -> Envelope:
    """The invoice arrives from orders' partition 2 and is refused once (a business verdict)."""
    envelope = Envelope.wrap(invoice(), time=datetime.now(UTC))
    refusing = alerts.app.state.runtime.event_consumer(replace(RULES, subscriptions=tuple(
        Subscription(InvoiceReceived, _refuse) if s.event is InvoiceReceived else s for s in RULES.subscriptions
    )))
    outcome = alerts.portal.call(partial(refusing.deliver, envelope, origin=Origin(ORDERS.qualified(), 2, 41)))
    assert outcome == "dead_lettered"
    return envelope


def test_a_redriven_invoice_gets_the_clean_runs_deadline_warning_and_withhold(alerts: Alerts, clean_run: Alerts) -> None:
    envelope = _dead_letter_the_invoice(alerts)
    alerts.close_days(FIRST_DAY, LAST_DAY)  # time moves on without the invoice
    assert alerts.client.get("/invoices/INV-1", headers=alerts.headers).status_code == 404

    [dead] = alerts.get("/dead-letters?status=dead&consumer=alerts.rules")["items"]
    assert (dead["event_id"], dead["topic"], dead["partition"], dead["offset"]) == (envelope.id, ORDERS.qualified(), 2, 41)
    assert dead["reason"] == "Unprocessable: invoice INV-1 names acceptance A1, not known yet"
    redriven = alerts.client.post(f"/dead-letters/{dead['id']}/redrive", headers=alerts.headers)
    assert redriven.status_code == 200, redriven.text
    assert (redriven.json()["outcome"], redriven.json()["dead_letter"]["status"]) == ("handled", "redriven")

    clean_run.deliver(envelope)
    clean_run.close_days(FIRST_DAY, LAST_DAY)
    assert _decisions(alerts) == _decisions(clean_run)
    one = alerts.get("/invoices/INV-1")
    assert (one["deadline"], one["warned_on"], one["withheld_from"]) == ("2026-10-08", "2026-10-09", "2026-10-23")
    assert alerts.deliver(envelope)[0] == "duplicate", "a redelivery after the redrive changes nothing"


def test_the_cli_lists_and_redrives_a_dead_letter(alerts: Alerts, monkeypatch: pytest.MonkeyPatch) -> None:
    envelope = _dead_letter_the_invoice(alerts)
    monkeypatch.setenv("JICAI_ALERTS_DATABASE_URL", alerts.url)
    runner = CliRunner()

    listed = runner.invoke(cli_app, ["list", "alerts"])
    assert listed.exit_code == 0, listed.output
    [line, total] = listed.output.splitlines()
    dead_letter_id = line.split("\t")[0]
    assert envelope.id in line and "names acceptance A1" in line and total == "1 of 1"
    assert envelope.id in runner.invoke(cli_app, ["show", "alerts", dead_letter_id]).output

    redriven = runner.invoke(cli_app, ["redrive", "alerts", dead_letter_id])
    assert redriven.exit_code == 0, redriven.output
    assert redriven.output.startswith("handled:") and "\tredriven\t" in redriven.output
    assert alerts.get("/invoices/INV-1")["deadline"] == "2026-10-08"
    again = runner.invoke(cli_app, ["redrive", "alerts", dead_letter_id])
    assert again.exit_code == 2 and "redriven, not dead" in again.output
    assert runner.invoke(cli_app, ["list", "alerts"]).output.strip() == "0 of 0"
