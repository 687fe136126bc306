"""Each regional profile runs its quarter end to end, and the platform applies that province's notice."""
from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.quarter import CASES, ProfileCase, amount_of
from tests.e2e.system import System

pytestmark = pytest.mark.e2e
BY_PROFILE = [pytest.param(case, id=case.profile_id) for case in CASES]


def seen_for(run: tuple[System, dict[str, dict[str, Any]]], case: ProfileCase) -> dict[str, Any]:
    return run[1][case.profile_id]


@pytest.mark.parametrize("case", BY_PROFILE)
def test_payment_deadline_follows_the_profile_rule_and_the_holiday_calendar(quarter_run: Any, case: ProfileCase) -> None:
    seen = seen_for(quarter_run, case)
    invoice = seen["invoice"]
    assert (invoice["profile_id"], invoice["deadline"]) == (case.profile_id, case.expected_deadline)
    decision = seen["deadline_decision"]["decision"]
    assert decision["profile_id"] == case.profile_id and decision["deadline"] == case.expected_deadline


@pytest.mark.parametrize("case", BY_PROFILE)
def test_warnings_and_withholds_follow_the_profile(quarter_run: Any, case: ProfileCase) -> None:
    seen = seen_for(quarter_run, case)
    invoice = seen["invoice"]
    assert (invoice["warned_on"], invoice["withheld_from"], invoice["status"]) == (
        case.expected_warned_on, case.expected_withheld_from, case.expected_final_status)
    kinds = sorted(a["kind"] for a in seen["alerts"])
    expected = (["overdue_warning"] if case.expected_warned_on else []) + (["settlement_withheld"] if case.expected_withheld_from else [])
    assert kinds == sorted(expected)
    assert all(a["profile_id"] == case.profile_id for a in seen["alerts"])
    # whatever was decided, the institution's settlement is normal again once it has paid, and never withheld without a withhold rule
    if case.payments:
        assert seen["settlement_status"]["status"] == "normal"
        assert all(a["status"] == "closed" for a in seen["alerts"])
    else:
        assert seen["settlement_status"]["status"] == "normal" and [a["status"] for a in seen["alerts"]] == ["open"]


@pytest.mark.parametrize("case", BY_PROFILE)
def test_every_service_agrees_on_what_is_owed(quarter_run: Any, case: ProfileCase) -> None:
    seen = seen_for(quarter_run, case)
    paid = sum(float(p.amount) for p in case.payments)
    outstanding = f"{float(amount_of(case)) - paid:.2f}"
    assert seen["invoice"]["outstanding"] == outstanding
    assert seen["settlement_invoice"]["outstanding"] == outstanding
    assert seen["orders_invoice"]["amount"] == amount_of(case)


@pytest.mark.parametrize("case", BY_PROFILE)
def test_non_winning_purchases_are_capped_where_the_profile_caps_them(quarter_run: Any, case: ProfileCase) -> None:
    july = [m for m in seen_for(quarter_run, case)["non_winning"]["months"] if m["month"] == "2026-07"]
    if not case.non_winning_base_units:
        assert all(not g["exceeded"] for m in july for g in m["groups"])
        return
    [month] = july
    [group] = month["groups"]
    winning = case.quantity * 7 if case.accepted_on.startswith("2026-07") else 0
    assert (float(group["winning_base_units"]), float(group["non_winning_base_units"])) == (winning, case.non_winning_base_units)
    assert group["exceeded"] is (case.non_winning_base_units > winning)
    assert group["profile_id"] == case.profile_id and group["cap_ratio"] is not None
