"""Withheld monthly settlement (R2, 暂缓拨付): given decisions / when a report or release / then statuses."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    InstitutionSettlementEvent,
    MonthlySettlementRecorded,
    MonthlySettlementReleased,
    WithholdLifted,
)
from jicai_settlement.domain.institution_settlement import (
    LiftWithhold,
    RecordWithhold,
    ReportMonthlySettlement,
    lift,
    report,
    withhold,
)
from jicai_settlement.domain.settlement_state import fold


def _withhold(decision_id: str = "W1", invoice_id: str = "INV-1") -> RecordWithhold:
    return RecordWithhold(
        institution_id="H1", decision_id=decision_id, invoice_id=invoice_id, warned_on=date(2026, 5, 1),
        withheld_from=date(2026, 5, 15), outstanding_amount=Decimal("300.00"), profile_id="guizhou-2020",
        profile_version=1, caused_by=("evt-1",),
    )


def _release(withhold_decision_id: str = "W1", decision_id: str = "R1", on: date = date(2026, 6, 3)) -> LiftWithhold:
    return LiftWithhold(
        institution_id="H1", release_decision_id=decision_id, withhold_decision_id=withhold_decision_id, invoice_id="INV-1",
        released_on=on, profile_id="guizhou-2020", profile_version=1, caused_by=("evt-pay",),
    )


def _report(settlement_id: str = "MS-2026-05", amount: str = "120000.00") -> ReportMonthlySettlement:
    month = settlement_id.removeprefix("MS-")
    return ReportMonthlySettlement(settlement_id=settlement_id, institution_id="H1", month=month, amount=Decimal(amount))


def _then(history: list[InstitutionSettlementEvent], new: list[InstitutionSettlementEvent]) -> list[InstitutionSettlementEvent]:
    return [*history, *new]


def test_without_a_withhold_a_monthly_settlement_is_issued() -> None:
    [event] = report([], _report())
    assert isinstance(event, MonthlySettlementRecorded) and event.status == "issued" and event.reason


def test_a_withhold_makes_the_institution_withheld_and_a_settlement_reported_then_withheld_with_the_reason() -> None:
    history = withhold([], _withhold())
    assert fold(history).status == "withheld"
    [event] = report(history, _report())
    assert isinstance(event, MonthlySettlementRecorded) and event.status == "withheld"
    assert event.withheld_by == ("W1",)
    assert "W1" in event.reason and "INV-1" in event.reason and "2026-05-15" in event.reason


def test_lifting_the_last_withhold_releases_every_withheld_settlement_on_the_release_date() -> None:
    history = withhold([], _withhold())
    history = _then(history, report(history, _report("MS-2026-05")))
    history = _then(history, report(history, _report("MS-2026-06")))
    new = lift(history, _release())
    assert isinstance(new[0], WithholdLifted)
    released = [e for e in new if isinstance(e, MonthlySettlementReleased)]
    assert {e.settlement_id for e in released} == {"MS-2026-05", "MS-2026-06"}
    assert {(e.released_on, e.release_decision_id) for e in released} == {(date(2026, 6, 3), "R1")}
    state = fold(_then(history, new))
    assert state.status == "normal"
    kept = state.settlements["MS-2026-05"]
    assert kept.status == "released" and "W1" in kept.reason


def test_a_settlement_stays_withheld_while_another_withhold_is_active() -> None:
    history = withhold([], _withhold("W1"))
    history = _then(history, withhold(history, _withhold("W2", "INV-2")))
    history = _then(history, report(history, _report()))
    history = _then(history, lift(history, _release("W1")))
    state = fold(history)
    assert state.status == "withheld" and [w.decision_id for w in state.active_withholds] == ["W2"]
    assert state.settlements["MS-2026-05"].status == "withheld"
    history = _then(history, lift(history, _release("W2", "R2", date(2026, 6, 9))))
    released = fold(history).settlements["MS-2026-05"]
    assert (released.status, released.released_on, released.release_decision_id) == ("released", date(2026, 6, 9), "R2")


def test_an_issued_settlement_is_not_touched_by_a_later_release() -> None:
    history = report([], _report())
    history = _then(history, withhold(history, _withhold()))
    new = lift(history, _release())
    assert [type(e) for e in new] == [WithholdLifted]


def test_the_same_decision_twice_changes_nothing() -> None:
    history = withhold([], _withhold())
    assert withhold(history, _withhold()) == []
    history = _then(history, lift(history, _release()))
    assert lift(history, _release()) == []
    assert withhold(history, _withhold()) == []  # an old withhold redelivered after its release does not re-withhold
    assert fold(history).status == "normal"


def test_a_release_of_an_unknown_withhold_is_refused() -> None:
    with pytest.raises(DomainRuleViolated) as err:
        lift([], _release("W-unknown"))
    assert err.value.field == "withhold_decision_id"


def test_a_monthly_settlement_is_reported_once() -> None:
    history = report([], _report())
    assert report(history, _report()) == []
    with pytest.raises(AlreadyExists):
        report(history, _report(amount="1.00"))
