"""Suspended monthly settlement (R3, 暂停医保月结算 自次月起): given decisions / when a report or resumption / then statuses.

The alerts service found H1 at 65% of its Q1 2026 target (period end 2026-03-31):
settlement suspended from 2026-04-01 until the cumulative target is met.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_settlement.domain.errors import DomainRuleViolated
from jicai_settlement.domain.events import InstitutionSettlementEvent, MonthlySettlementRecorded, MonthlySettlementReleased
from jicai_settlement.domain.institution_settlement import (
    LiftSuspension,
    LiftWithhold,
    RecordSuspension,
    RecordWithhold,
    ReportMonthlySettlement,
    lift,
    report,
    resume,
    suspend,
    withhold,
)
from jicai_settlement.domain.settlement_state import fold


def _suspension(decision_id: str = "volume-suspension-H1-2026-03-31") -> RecordSuspension:
    return RecordSuspension(
        institution_id="H1", decision_id=decision_id, period_end=date(2026, 3, 31), ratio=Decimal("0.6500"),
        suspend_below=Decimal("0.70"), suspended_from=date(2026, 4, 1), profile_id="guizhou-2020", profile_version=1,
        caused_by=("evt-day",),
    )


def _resumption(on: date = date(2026, 5, 14)) -> LiftSuspension:
    return LiftSuspension(
        institution_id="H1", resume_decision_id="volume-resumption-H1-2026-03-31",
        suspension_decision_id="volume-suspension-H1-2026-03-31", resumed_on=on, reason="target_met",
        profile_id="guizhou-2020", profile_version=1, caused_by=("evt-suspension", "evt-day"),
    )


def _withhold() -> RecordWithhold:
    return RecordWithhold(
        institution_id="H1", decision_id="W1", invoice_id="INV-1", warned_on=date(2026, 5, 1), withheld_from=date(2026, 5, 15),
        outstanding_amount=Decimal("300.00"), profile_id="guizhou-2020", profile_version=1, caused_by=("evt-1",),
    )


def _report(month: str) -> ReportMonthlySettlement:
    return ReportMonthlySettlement(settlement_id=f"MS-{month}", institution_id="H1", month=month, amount=Decimal("1000.00"))


def _with(history: list[InstitutionSettlementEvent], new: list[InstitutionSettlementEvent]) -> list[InstitutionSettlementEvent]:
    return [*history, *new]


def test_a_settlement_for_a_month_from_the_suspension_on_is_suspended_with_the_reason() -> None:
    history = suspend([], _suspension())
    assert fold(history).status == "suspended"

    [march] = report(history, _report("2026-03"))
    [april] = report(history, _report("2026-04"))

    assert isinstance(march, MonthlySettlementRecorded) and march.status == "issued"
    assert isinstance(april, MonthlySettlementRecorded) and april.status == "suspended"
    assert april.suspended_by == ("volume-suspension-H1-2026-03-31",)
    assert "65.00%" in april.reason and "2026-03-31" in april.reason and "暂停医保月结算" in april.reason


def test_the_resumption_releases_the_suspended_settlements_on_its_date() -> None:
    history = suspend([], _suspension())
    history = _with(history, report(history, _report("2026-04")))

    new = resume(history, _resumption())

    released = [e for e in new if isinstance(e, MonthlySettlementReleased)]
    assert [(e.settlement_id, e.released_on) for e in released] == [("MS-2026-04", date(2026, 5, 14))]
    after = fold(_with(history, new))
    assert after.status == "normal" and after.settlements["MS-2026-04"].status == "released"
    assert resume(_with(history, new), _resumption()) == []  # the same resumption again changes nothing


def test_withheld_and_suspended_both_show_and_a_settlement_waits_for_both() -> None:
    history = suspend([], _suspension())
    history = _with(history, withhold(history, _withhold()))
    assert fold(history).status == "withheld_and_suspended"
    [may] = report(history, _report("2026-05"))
    assert isinstance(may, MonthlySettlementRecorded) and (may.status, may.withheld_by) == ("suspended", ("W1",))
    history = _with(history, [may])

    history = _with(history, lift(history, LiftWithhold(
        institution_id="H1", release_decision_id="R1", withhold_decision_id="W1", invoice_id="INV-1",
        released_on=date(2026, 6, 3), profile_id="guizhou-2020", profile_version=1, caused_by=("evt-pay",),
    )))
    assert fold(history).status == "suspended"
    assert fold(history).settlements["MS-2026-05"].status == "suspended"

    history = _with(history, resume(history, _resumption(date(2026, 6, 20))))
    assert fold(history).settlements["MS-2026-05"].released_on == date(2026, 6, 20)


def test_a_resumption_of_an_unknown_suspension_is_refused() -> None:
    with pytest.raises(DomainRuleViolated):
        resume([], _resumption())
