"""The year end on real PostgreSQL: decisions that need next year's working days wait for its calendar,
visibly, and are taken as of their own dates when the year arrives on the policy topic (an operator's
``PUT /calendars/{year}`` at contracts: tests/service/contracts/test_policy_changes.py).

chinesecalendar covers 2026 at most. Guizhou (贵阳市 520100), Guizhou 000 §五(三):
* accepted and received Fri 2026-11-20 → due Sun 12-20 → Mon 12-21 → warned Tue 12-22; the 10 grace working
  days reach into 2027: with this test's 2027 calendar (01-01…01-03 rest) they end Wed 01-06, withheld from 01-07;
* received 2026-12-10 → 30 days end Sat 2027-01-09 → due Mon 01-11, warned Tue 01-12, withheld from Wed 01-27.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from jicai_alerts.entrypoints.app import build_app
from jicai_alerts.settings import Settings
from jicai_events.catalog import CalendarYearLoaded
from jicai_kit.auth import Role
from jicai_policy import parse_calendar_text
from tests.service.alerts.test_flow import DEADLINE_SET, WARNED, WITHHELD, Alerts, alerts, invoice, payment, shared_alerts
from tests.support.in_process_client import InProcessClient
from tests.support.shared_apps import SharedApps

__all__ = ["alerts"]

CALENDAR_2027 = """
year = 2027
source = "test schedule for 2027 (not the State Council's)"
holidays = [2027-01-01, 2027-01-02, 2027-01-03]
makeup_working_days = []
"""


def without_event_ids(*views: Any) -> Any:
    """The views without the ids of the envelopes delivered (each run wraps its own events)."""
    if len(views) > 1:
        return tuple(without_event_ids(v) for v in views)
    [view] = views
    if isinstance(view, dict):
        return {k: without_event_ids(v) for k, v in view.items() if not k.endswith("event_id")}
    if isinstance(view, list):
        return [without_event_ids(v) for v in view]
    return view


def load_2027(alerts: Alerts) -> str:
    """The year as alerts reads it from the policy topic (contracts' ``PUT /calendars/2027``)."""
    schedule = parse_calendar_text(CALENDAR_2027)
    event = CalendarYearLoaded(year=2027, source=schedule.source, holidays=tuple(sorted(schedule.holidays)), loaded_by="ops")
    return alerts.deliver(event)[0]


def test_an_invoice_due_before_the_year_end_is_warned_and_only_its_withhold_waits(alerts: Alerts) -> None:
    assert alerts.deliver(invoice(accepted=date(2026, 11, 20), received=date(2026, 11, 20)))[0] == "handled"

    alerts.close_days(date(2026, 12, 21), date(2026, 12, 21))

    [warning] = alerts.get("/institutions/H001/alerts")
    assert (warning["kind"], warning["since"], warning["deadline"]) == ("overdue_warning", "2026-12-22", "2026-12-21")
    one = alerts.get("/invoices/INV-1")
    assert (one["status"], one["warned_on"], one["waiting_for_calendar_year"]) == ("overdue", "2026-12-22", 2027)
    [blocked] = alerts.get("/blocked-decisions")
    assert (blocked["invoice_id"], blocked["waiting_for_calendar_year"]) == ("INV-1", 2027)
    assert "2027" in blocked["reason"] and "withhold" in blocked["reason"]
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET, WARNED]


def test_an_invoice_due_next_year_is_tracked_waiting_then_decided_when_the_year_is_loaded(alerts: Alerts) -> None:
    assert alerts.deliver(invoice(accepted=date(2026, 12, 1), received=date(2026, 12, 10)))[0] == "handled", "never dead-lettered"

    one = alerts.get("/invoices/INV-1")
    assert (one["status"], one["deadline"], one["waiting_for_calendar_year"], one["outstanding"]) == (
        "waiting_for_calendar", None, 2027, "10000.00")
    [blocked] = alerts.get("/blocked-decisions")
    assert (blocked["invoice_id"], blocked["waiting_for_calendar_year"]) == ("INV-1", 2027)
    assert "deadline" in blocked["reason"]
    assert alerts.get("/policy/calendars")["waiting"] == {"2027": 1}
    alerts.deliver(payment("P1", date(2026, 12, 20), INV_1="3000.00"))
    paid = alerts.get("/invoices/INV-1")
    assert (paid["paid"], paid["outstanding"], paid["status"]) == ("3000.00", "7000.00", "waiting_for_calendar"), "payments count while it waits"
    [owed] = alerts.get("/institutions/H001/status?as_of=2026-12-31")["invoices"]
    assert (owed["invoice_id"], owed["deadline"], owed["outstanding"], owed["overdue"]) == ("INV-1", None, "7000.00", False)
    alerts.close_days(date(2026, 12, 10), date(2026, 12, 31))
    alerts.close_days(date(2027, 1, 31), date(2027, 1, 31))  # the clock runs on; nothing can be decided yet
    assert alerts.outbox() == []

    assert load_2027(alerts) == "handled"

    one = alerts.get("/invoices/INV-1")
    assert (one["deadline"], one["status"], one["warned_on"], one["withheld_from"], one["waiting_for_calendar_year"]) == (
        "2027-01-11", "withheld", "2027-01-12", "2027-01-27", None)
    assert alerts.get("/blocked-decisions") == []
    assert [kind for kind, _ in alerts.outbox()] == [DEADLINE_SET, WARNED, WITHHELD]
    calendars = alerts.get("/policy/calendars")
    assert (calendars["covered_until"], calendars["waiting"]) == ("2027-12-31", {})
    assert calendars["years"][-1] == {"year": 2027, "source": "test schedule for 2027 (not the State Council's)", "loaded_by": "ops"}


def test_loading_decides_what_waited_as_a_run_with_the_calendar_from_the_start_would(
    alerts: Alerts, shared_apps: SharedApps, token: Callable[[str, Role], dict[str, str]]
) -> None:
    def run(calendar_first: bool) -> tuple[Any, ...]:
        a = alerts if not calendar_first else shared_alerts(shared_apps, token, "calendar first")
        if calendar_first:
            assert load_2027(a) == "handled"
        a.deliver(invoice("INV-DEC", accepted=date(2026, 11, 20), received=date(2026, 11, 20)))  # withhold waits
        a.deliver(invoice("INV-PAID", accepted=date(2026, 11, 20), received=date(2026, 11, 20)))  # paid in the grace period
        a.deliver(invoice("INV-JAN", accepted=date(2026, 12, 1), received=date(2026, 12, 10)))  # deadline waits
        a.close_days(date(2026, 12, 21), date(2026, 12, 31))
        a.deliver(payment("P1", date(2027, 1, 5), INV_PAID="10000.00"))
        a.close_days(date(2027, 1, 1), date(2027, 1, 31))
        if not calendar_first:
            assert load_2027(a) == "handled"
        views: tuple[Any, ...] = without_event_ids(
            [a.get(f"/invoices/{i}") for i in ("INV-DEC", "INV-PAID", "INV-JAN")],
            a.get("/institutions/H001/alerts?include_closed=true"),
            sorted((kind, data["decision_id"]) for kind, data in a.outbox()),
            a.get("/blocked-decisions"),
        )
        return views

    late, from_start = run(calendar_first=False), run(calendar_first=True)

    assert late == from_start
    invoices, alerts_seen, _, blocked = late
    assert [(i["status"], i["withheld_from"]) for i in invoices] == [
        ("withheld", "2027-01-07"), ("paid", None), ("withheld", "2027-01-27")]
    assert [(a["alert_id"], a["status"]) for a in alerts_seen if a["invoice_id"] == "INV-PAID"] == [("warning-INV-PAID", "closed")]
    assert blocked == []


def test_no_request_decides_with_a_year_before_the_transaction_that_stored_it_commits(
    alerts: Alerts, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The consumer folds the year it stores to decide what waited for it; the process's book, which every request
    decides with, takes the year only with its commit (a page once read 2027 covered but without who loaded it)."""
    from jicai_alerts.adapters.policy import FOLDED
    from jicai_alerts.application import services
    from jicai_events.unit_of_work import UnitOfWork
    from jicai_policy import PolicyBook

    seen_by_others_while_storing: list[date] = []
    decide = services.calendar_year_loaded

    async def deciding(uow: UnitOfWork, book: PolicyBook) -> list[str]:
        assert book.calendar.covered_until() == date(2027, 12, 31), "the storing transaction decides with the year"
        seen_by_others_while_storing.append(FOLDED.book().calendar.covered_until())
        return await decide(uow, book)

    monkeypatch.setattr(services, "calendar_year_loaded", deciding)  # as the calendar use case calls it
    assert alerts.get("/policy/calendars")["covered_until"] == "2026-12-31"
    assert load_2027(alerts) == "handled"
    assert seen_by_others_while_storing == [date(2026, 12, 31)]
    calendars = alerts.get("/policy/calendars")
    assert calendars["covered_until"] == "2027-12-31"
    assert [y["loaded_by"] for y in calendars["years"] if y["year"] == 2027] == ["ops"]


def test_a_loaded_year_survives_a_restart_and_a_rebuild_of_the_read_models(alerts: Alerts) -> None:
    from jicai_alerts.adapters.repository import streams
    from jicai_alerts.adapters.tables import READ_MODELS

    alerts.deliver(invoice("INV-WAIT", accepted=date(2026, 12, 1), received=date(2026, 12, 10)))
    assert load_2027(alerts) == "handled"
    before = (alerts.get("/invoices/INV-WAIT"), alerts.get("/policy/calendars"))

    async def rebuild() -> int:
        async with alerts.app.state.runtime.unit_of_work() as uow:
            return int(await streams.rebuild(uow, READ_MODELS))

    assert alerts.portal.call(rebuild) > 0
    assert (alerts.get("/invoices/INV-WAIT"), alerts.get("/policy/calendars")) == before
    assert before[0]["deadline"] == "2027-01-11"

    with InProcessClient(build_app(Settings(database_url=alerts.url, run_workers=False))) as client:
        restarted = Alerts(client, client.app, alerts.url, alerts.headers)  # type: ignore[arg-type]
        restarted.deliver(invoice(accepted=date(2026, 12, 1), received=date(2026, 12, 10)))
        assert restarted.get("/invoices/INV-1")["deadline"] == "2027-01-11"
        assert restarted.get("/policy/calendars")["covered_until"] == "2027-12-31"


def test_the_policy_a_region_follows_on_a_date_is_readable(alerts: Alerts) -> None:
    guiyang = alerts.get("/policy/regions/520100?on=2026-09-01")

    assert (guiyang["profile_id"], guiyang["profile_version"], guiyang["effective_from"]) == ("guizhou-2020", 1, "2020-04-14")
    assert guiyang["region_name"] and guiyang["profile_title"]
    assert guiyang["volume_completion"] == {"period": "quarter", "warning_below": "0.80", "suspend_below": "0.70"}  # 000 §五(三)
    assert alerts.get("/policy/regions/370100?on=2026-09-01")["volume_completion"] is None  # Shandong's notice has no R3
    assert alerts.client.get("/policy/regions/520100?on=2019-01-01", headers=alerts.headers).status_code == 404  # before its profile
    assert alerts.client.get("/policy/regions/110100?on=2026-09-01", headers=alerts.headers).status_code == 404  # Beijing: none
    assert alerts.client.get("/policy/regions/52?on=2026-09-01", headers=alerts.headers).status_code == 422
