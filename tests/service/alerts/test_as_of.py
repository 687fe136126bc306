"""An institution's status "as of" a past date, from the event log (not the read models), on real PostgreSQL.

Guizhou 520100, real 2026 dates: invoice received 09-05 → deadline Thu 10-08 → warned Fri 10-09 →
withheld from Fri 10-23 → paid in full on 11-03 (released). 红冲: a credit note received 09-25 restarts the
Guizhou clock (deadline 10-26, warned 10-27); a void on 11-02 ends what is owed and the withhold. R3: Q1 at 65%
→ suspended from 04-01, resumed on 04-14 when the cumulative target is met.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from jicai_kit.auth import Role
from tests.service.alerts.test_flow import Alerts, invoice, payment
from tests.service.alerts.test_red_letter import credited, voided
from tests.service.alerts.test_volume_completion import accepted, alerts, contract

__all__ = ["alerts"]


def status(alerts: Alerts, day: str) -> dict[str, Any]:
    view: dict[str, Any] = alerts.get(f"/institutions/H001/status?as_of={day}")
    return view


@pytest.mark.parametrize(
    ("as_of", "owed", "warnings", "withholds"),
    [
        pytest.param("2026-09-04", [], [], [], id="before the invoice was received"),
        pytest.param("2026-10-08", [("INV-1", "10000.00", False)], [], [], id="owed, on its deadline"),
        pytest.param("2026-10-09", [("INV-1", "10000.00", True)], ["warning-INV-1"], [], id="warned the day after"),
        pytest.param("2026-10-23", [("INV-1", "10000.00", True)], ["warning-INV-1"], ["withhold-INV-1"], id="withheld from 10-23"),
        pytest.param("2026-11-03", [], [], [], id="paid and released on 11-03"),
    ],
)
def test_invoice_obligations_and_r2_decisions_as_of_a_date(
    alerts: Alerts, as_of: str, owed: list[tuple[str, str, bool]], warnings: list[str], withholds: list[str]
) -> None:
    alerts.deliver(invoice())
    alerts.close_days(date(2026, 10, 8), date(2026, 10, 8))
    alerts.close_days(date(2026, 10, 22), date(2026, 11, 2))
    alerts.deliver(payment("P1", date(2026, 11, 3), INV_1="10000.00"))

    result = status(alerts, as_of)

    assert [(i["invoice_id"], i["outstanding"], i["overdue"]) for i in result["invoices"]] == owed
    assert [w["decision_id"] for w in result["warnings"]] == warnings
    assert [w["decision_id"] for w in result["withholds"]] == withholds
    assert result["last_closed_on"] == "2026-11-02"


def test_a_suspension_as_of_dates_before_during_and_after_it(alerts: Alerts, token: Callable[[str, Role], dict[str, str]]) -> None:
    alerts.deliver(contract())
    alerts.deliver(accepted("A1", 650, date(2026, 3, 20)))
    alerts.close_days(date(2026, 3, 31), date(2026, 3, 31))
    alerts.deliver(accepted("A2", 350, date(2026, 4, 14)))
    alerts.close_days(date(2026, 4, 1), date(2026, 4, 14))

    assert [s["decision_id"] for s in status(alerts, "2026-03-31")["suspensions"]] == []
    [suspended] = status(alerts, "2026-04-13")["suspensions"]
    assert (suspended["since"], suspended["ratio"]) == ("2026-04-01", "0.6500")
    assert status(alerts, "2026-04-14")["suspensions"] == []
    assert [w["kind"] for w in status(alerts, "2026-04-13")["warnings"]] == ["volume_warning"]
    assert alerts.client.get("/institutions/H001/status?as_of=2026-04-13", headers=token("H002", Role.INSTITUTION)).status_code == 403
    assert alerts.client.get("/institutions/H001/status?as_of=2026-13-01", headers=alerts.headers).status_code == 422


def owed(alerts: Alerts, day: str) -> list[tuple[str, str, str, str, bool]]:
    return [(i["invoice_id"], i["outstanding"], i["credited"], i["deadline"], i["overdue"]) for i in status(alerts, day)["invoices"]]


def open_decisions(alerts: Alerts, day: str) -> tuple[list[str], list[str]]:
    result = status(alerts, day)
    return [w["decision_id"] for w in result["warnings"]], [w["decision_id"] for w in result["withholds"]]


def test_a_credit_note_counts_from_its_receipt_with_the_deadline_it_restarted(alerts: Alerts) -> None:
    alerts.deliver(invoice())
    alerts.close_days(date(2026, 9, 5), date(2026, 9, 24))
    alerts.deliver(credited("CN-1", "2000.00", "8000.00", date(2026, 9, 25)))  # Guizhou: the clock restarts → deadline 10-26
    alerts.close_days(date(2026, 9, 25), date(2026, 10, 31))

    assert owed(alerts, "2026-09-24") == [("INV-1", "10000.00", "0.00", "2026-10-08", False)]
    assert owed(alerts, "2026-10-09") == [("INV-1", "8000.00", "2000.00", "2026-10-26", False)]
    assert open_decisions(alerts, "2026-10-09") == ([], [])
    assert owed(alerts, "2026-10-27") == [("INV-1", "8000.00", "2000.00", "2026-10-26", True)]
    assert open_decisions(alerts, "2026-10-27") == (["warning-INV-1:r2"], [])
    assert status(alerts, "2026-10-27")["outstanding"] == "8000.00"


def test_a_voided_invoice_is_owed_and_withheld_until_the_void_and_nothing_after(alerts: Alerts) -> None:
    alerts.deliver(invoice())
    alerts.close_days(date(2026, 10, 8), date(2026, 10, 31))
    alerts.deliver(voided(date(2026, 11, 2)))
    alerts.close_days(date(2026, 11, 1), date(2026, 11, 30))

    assert owed(alerts, "2026-11-01") == [("INV-1", "10000.00", "0.00", "2026-10-08", True)]
    assert open_decisions(alerts, "2026-11-01") == (["warning-INV-1"], ["withhold-INV-1"])
    for day in ("2026-11-02", "2026-11-30"):
        assert (owed(alerts, day), open_decisions(alerts, day), status(alerts, day)["outstanding"]) == ([], ([], []), "0.00")
