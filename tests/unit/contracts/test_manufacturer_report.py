"""Manufacturers' monthly report, Hubei 003 §五(二): 每月5日前报送上月的生产、供应、库存、回款."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import ManufacturerReportSubmitted
from jicai_contracts.domain.report import report_id, submit

TODAY = date(2026, 11, 3)


def _report(month: str = "2026-10", submitted_on: date = TODAY, manufacturer_id: str = "M1", stock: int = 500) -> ManufacturerReportSubmitted:
    return ManufacturerReportSubmitted(report_id=report_id(manufacturer_id, month), manufacturer_id=manufacturer_id, month=month,
                                       submitted_on=submitted_on, produced_quantity=10000, supplied_quantity=9500, stock_quantity=stock,
                                       payments_received=Decimal("18810.00"))


def test_a_report_on_last_month_is_recorded_once() -> None:
    [event] = submit([], _report(), TODAY)
    assert event.report_id == "M1-2026-10"  # type: ignore[union-attr]
    assert submit([event], _report(), date(2026, 12, 1)) == []  # resubmitting the same figures later is harmless
    with pytest.raises(AlreadyExists):
        submit([event], _report(stock=499), TODAY)


@pytest.mark.parametrize(
    ("report", "field"),
    [
        (_report(month="2026-11"), "month"),  # the month is not over
        (_report(month="2027-01"), "month"),
        (_report(submitted_on=date(2026, 11, 4)), "submitted_on"),  # after today
        (_report(month="2026-09", submitted_on=date(2026, 9, 30)), "submitted_on"),  # within the month reported on
        (_report(manufacturer_id="M" * 60), "manufacturer_id"),  # the report id would not fit
    ],
)
def test_a_report_on_a_month_not_yet_over_or_dated_wrongly_is_refused(report: ManufacturerReportSubmitted, field: str) -> None:
    with pytest.raises(DomainRuleViolated) as err:
        submit([], report, TODAY)
    assert err.value.field == field
