"""A released settlement carries what the agreed ``MonthlySettlementReleased`` publishes: month, amount and why."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypedDict

from jicai_settlement.adapters.outgoing import translate
from jicai_settlement.domain.events import InstitutionSettlementEvent, MonthlySettlementReleased
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


class Common(TypedDict):
    """What every withhold and suspension command of these tests shares."""

    institution_id: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


COMMON: Common = {"institution_id": "H1", "profile_id": "guizhou-2020", "profile_version": 1, "caused_by": ("evt-1",)}


def _then(history: list[InstitutionSettlementEvent], new: list[InstitutionSettlementEvent]) -> list[InstitutionSettlementEvent]:
    return [*history, *new]


def _released(new: list[InstitutionSettlementEvent]) -> MonthlySettlementReleased:
    [released] = [e for e in new if isinstance(e, MonthlySettlementReleased)]
    return released


def test_a_withheld_settlement_released_by_payment_names_the_withhold_and_the_release() -> None:
    """Guizhou 000 §五(三): 回款后恢复拨付."""
    history = withhold([], RecordWithhold(decision_id="W1", invoice_id="INV-1", warned_on=date(2026, 5, 1),
                                          withheld_from=date(2026, 5, 15), outstanding_amount=Decimal("300.00"), **COMMON))
    history = _then(history, report(history, ReportMonthlySettlement("MS-1", "H1", "2026-05", Decimal("120000.00"))))
    released = _released(lift(history, LiftWithhold(release_decision_id="R1", withhold_decision_id="W1", invoice_id="INV-1",
                                                    released_on=date(2026, 6, 3), **COMMON)))
    published = translate(released)
    assert published is not None
    data = published.model_dump(mode="json")
    assert (data["month"], data["amount"], data["released_on"]) == ("2026-05", "120000.00", "2026-06-03")
    assert "W1" in data["reason"] and "R1" in data["reason"] and "paid" in data["reason"]


def test_a_withhold_lifted_because_the_invoice_was_voided_says_so() -> None:
    """红冲: the invoice behind the withhold no longer asks for anything, so the held settlement is paid out."""
    history = withhold([], RecordWithhold(decision_id="W1", invoice_id="INV-1", warned_on=date(2026, 5, 1),
                                          withheld_from=date(2026, 5, 15), outstanding_amount=Decimal("300.00"), **COMMON))
    history = _then(history, report(history, ReportMonthlySettlement("MS-1", "H1", "2026-05", Decimal("120000.00"))))
    released = _released(lift(history, LiftWithhold(release_decision_id="R1", withhold_decision_id="W1", invoice_id="INV-1",
                                                    released_on=date(2026, 6, 3), reason="voided", **COMMON)))
    assert released.reason is not None and "voided" in released.reason


def test_a_suspended_settlement_released_by_resumption_names_the_suspension_and_its_reason() -> None:
    """Guizhou 000 §五(三): 完成累计采购量后恢复月结算."""
    history = suspend([], RecordSuspension(decision_id="S1", period_end=date(2026, 3, 31), ratio=Decimal("0.65"),
                                           suspend_below=Decimal("0.70"), suspended_from=date(2026, 4, 1), **COMMON))
    history = _then(history, report(history, ReportMonthlySettlement("MS-4", "H1", "2026-04", Decimal("80000.00"))))
    released = _released(resume(history, LiftSuspension(resume_decision_id="RS1", suspension_decision_id="S1",
                                                        resumed_on=date(2026, 5, 14), reason="target_met", **COMMON)))
    assert (released.month, released.amount, released.released_on) == ("2026-04", Decimal("80000.00"), date(2026, 5, 14))
    assert released.reason is not None and "S1" in released.reason and "target_met" in released.reason
