"""Manufacturers' monthly report missing, Hubei 003 §五(二): "中选生产企业每月5日前向省联采办报送上月的生产、
供应、库存、回款等情况" (due_day_of_month = 5). Real 2026 dates; Wuhan 420100 (Hubei 2019) and Guiyang 520100
(Guizhou 2020, which requires no report)."""
from __future__ import annotations

from datetime import date

import pytest

from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain.volume_completion import ClosedDay
from jicai_policy import PolicyBook
from tests.unit.alerts.test_volume_completion_decisions import book

__all__ = ["book"]


def contract(region: str = "420100", known_after: date | None = None, contract_id: str = "C1") -> mr.ManufacturerContractTracked:
    return mr.ManufacturerContractTracked(
        contract_id=contract_id, manufacturer_id="M001", pooling_region_code=region, cycle_start=date(2026, 1, 1),
        cycle_end=date(2026, 12, 31), known_after=known_after, contract_event_id=f"evt-{contract_id}",
    )


def report(month: str, on: date, report_id: str | None = None) -> mr.ManufacturerReportCounted:
    return mr.ManufacturerReportCounted(
        report_id=report_id or f"R-{month}", manufacturer_id="M001", month=month, submitted_on=on, report_event_id=f"evt-R-{month}",
    )


class Stream:
    def __init__(self, book: PolicyBook, *given: mr.ManufacturerEvent) -> None:
        self.book = book
        self.recorded: list[mr.Recorded] = [(e, f"evt-{i}") for i, e in enumerate(given)]

    def state(self) -> mr.ManufacturerState:
        return mr.fold("M001", self.recorded)

    def record(self, new: list[mr.ManufacturerEvent]) -> list[mr.ManufacturerEvent]:
        self.recorded += [(e, f"evt-{len(self.recorded) + i}") for i, e in enumerate(new)]
        return new

    def close(self, day: date) -> list[tuple[str, str]]:
        new = mr.decide_on_day_closed(self.state(), ClosedDay(day, f"day-{day}"), lambda r, on: self.book.profile_for(r, on=on))
        decided = [e for e in self.record(new) if not isinstance(e, mr.ManufacturerMonthChecked)]
        assert not any(isinstance(e, mr.ManufacturerContractTracked) for e in decided), "a day close tracks no contract"
        return [(type(e).__name__, e.month) for e in decided if not isinstance(e, mr.ManufacturerContractTracked)]


@pytest.mark.parametrize(
    ("reports", "expected"),
    [
        pytest.param([], [("ManufacturerReportMissed", "2026-01")], id="no report on January by 02-05"),
        pytest.param([report("2026-01", date(2026, 2, 5))], [], id="reported on the due day"),
        pytest.param([report("2026-02", date(2026, 2, 3))], [("ManufacturerReportMissed", "2026-01")], id="a report on another month"),
        pytest.param(
            [report("2026-01", date(2026, 2, 6))],
            [("ManufacturerReportMissed", "2026-01"), ("ManufacturerReportMissClosed", "2026-01")],
            id="reported a day late: missed and closed",
        ),
    ],
)
def test_the_close_after_the_due_day_checks_the_previous_month(
    book: PolicyBook, reports: list[mr.ManufacturerEvent], expected: list[tuple[str, str]]
) -> None:
    stream = Stream(book, contract(), *reports)

    assert stream.close(date(2026, 2, 5)) == []
    assert stream.close(date(2026, 2, 6)) == expected
    assert stream.close(date(2026, 2, 7)) == []


def test_the_missed_decision_names_profile_and_causes_and_a_late_report_closes_it(book: PolicyBook) -> None:
    stream = Stream(book, contract())
    stream.close(date(2026, 2, 6))
    [missed] = [e for e, _ in stream.recorded if isinstance(e, mr.ManufacturerReportMissed)]
    assert (missed.decision_id, missed.due_on, missed.profile_id, missed.profile_version, missed.caused_by) == (
        "manufacturer-report-M001-2026-01", date(2026, 2, 5), "hubei-2019", 1, ("day-2026-02-06", "evt-C1"),
    )

    closed = mr.decide_on_report(stream.state(), report("2026-01", date(2026, 2, 10)))
    assert [type(e).__name__ for e in closed] == ["ManufacturerReportCounted", "ManufacturerReportMissClosed"]
    stream.record(closed)
    assert mr.decide_on_report(stream.state(), report("2026-01", date(2026, 2, 10))) == []


def test_one_close_far_ahead_checks_every_month_due_as_closing_day_by_day(book: PolicyBook) -> None:
    daily = Stream(book, contract(), report("2026-02", date(2026, 3, 2)))
    by_day = [d for day in range(1, 121) for d in daily.close(date.fromordinal(date(2026, 1, 1).toordinal() + day))]
    jump = Stream(book, contract(), report("2026-02", date(2026, 3, 2)))

    assert jump.close(date(2026, 5, 1)) == by_day == [("ManufacturerReportMissed", "2026-01"), ("ManufacturerReportMissed", "2026-03")]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(contract("520100"), [], id="guizhou requires no monthly report"),
        pytest.param(contract(known_after=date(2026, 3, 10)), [("ManufacturerReportMissed", "2026-03")],
                     id="months due before the contract was known are not checked"),
    ],
)
def test_only_months_the_platform_watched_in_regions_requiring_the_report(
    book: PolicyBook, given: mr.ManufacturerEvent, expected: list[tuple[str, str]]
) -> None:
    assert Stream(book, given).close(date(2026, 4, 6)) == expected


def test_months_before_the_region_s_go_live_are_not_checked(book: PolicyBook) -> None:
    """``manufacturer_report_from`` = 2026-03-10 in regions.toml: March (due 04-05) is the first month checked."""
    stream = Stream(book, contract())
    new = mr.decide_on_day_closed(
        stream.state(), ClosedDay(date(2026, 4, 6), "day"), lambda r, on: book.profile_for(r, on=on), lambda r, on: date(2026, 3, 10)
    )
    assert [e.month for e in new if isinstance(e, mr.ManufacturerReportMissed)] == ["2026-03"]
    assert mr.decide_on_day_closed(
        stream.state(), ClosedDay(date(2026, 4, 6), "day"), lambda r, on: book.profile_for(r, on=on), lambda r, on: None
    ) == []
