"""R1 payment deadline (回款期限) under Civil Code arts. 201 and 203, on real 2026 dates.

Official 2026 schedule (国办发明电〔2025〕7号): rest 01-01..01-03, 02-15..02-23,
04-04..04-06, 05-01..05-05, 06-19..06-21, 09-25..09-27, 10-01..10-07; make-up
working days 01-04 (Sun), 02-14 (Sat), 02-28 (Sat), 05-09 (Sat), 09-20 (Sun),
10-10 (Sat). Every expected date is counted by hand: start day not counted,
then the first working day on or after the raw end.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from jicai_policy import (
    LIBRARY_YEARS,
    CalendarYearNotCovered,
    InvoiceDateRequired,
    PaymentTerm,
    PaymentTermRule,
    WorkingDayCalendar,
    load_calendar,
    payment_deadline,
)

DATA = Path(__file__).parent / "data"
LIBRARY = WorkingDayCalendar()
WITH_2027 = load_calendar([DATA / "calendars"])

GUIZHOU = PaymentTerm(
    rule=PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS,
    days=30,
    source="000_0b8eb23f70a351bf.txt §五(三)",
)
HUBEI = PaymentTerm(rule=PaymentTermRule.ACCEPTANCE_PLUS_DAYS, days=30, source="003_5bdb581359ce1a93.txt §四(三)")
LIANGJIANG = PaymentTerm(rule=PaymentTermRule.END_OF_MONTH_AFTER_ACCEPTANCE, source="002_ebc7cb9ae90d6151.txt §三(四)")


@pytest.mark.parametrize(
    ("acceptance", "invoice", "expected"),
    [
        # invoice later: 03-10 + 30 = 04-09 Thu, working (acceptance would give 04-01)
        (date(2026, 3, 2), date(2026, 3, 10), date(2026, 4, 9)),
        # acceptance later: 03-12 + 30 = 04-11 Sat, ordinary weekend -> Mon 04-13
        (date(2026, 3, 12), date(2026, 3, 5), date(2026, 4, 13)),
        # same day: 07-01 + 30 = 07-31 Fri, working
        (date(2026, 7, 1), date(2026, 7, 1), date(2026, 7, 31)),
        # 09-03 + 30 = 10-03 Sat inside National Day 10-01..10-07 -> Thu 10-08
        (date(2026, 9, 1), date(2026, 9, 3), date(2026, 10, 8)),
        # 09-02 + 30 = 10-02 Fri, National Day -> Thu 10-08 (acceptance is the later date)
        (date(2026, 9, 2), date(2026, 8, 20), date(2026, 10, 8)),
        # 01-20 + 30 = 02-19 Thu inside Spring Festival 02-15..02-23 -> Tue 02-24
        (date(2026, 1, 20), date(2026, 1, 20), date(2026, 2, 24)),
        # 03-05 + 30 = 04-04 Sat, Qingming 04-04..04-06 -> Tue 04-07
        (date(2026, 3, 5), date(2026, 3, 1), date(2026, 4, 7)),
        # 04-01 + 30 = 05-01 Fri, Labour Day 05-01..05-05 -> Wed 05-06
        (date(2026, 4, 1), date(2026, 3, 25), date(2026, 5, 6)),
        # 05-20 + 30 = 06-19 Fri, Dragon Boat 06-19..06-21 -> Mon 06-22
        (date(2026, 5, 18), date(2026, 5, 20), date(2026, 6, 22)),
        # 08-26 + 30 = 09-25 Fri, Mid-autumn 09-25..09-27 -> Mon 09-28
        (date(2026, 8, 26), date(2026, 8, 26), date(2026, 9, 28)),
        # 07-16 + 30 = 08-15 Sat, ordinary weekend -> Mon 08-17
        (date(2026, 7, 16), date(2026, 7, 10), date(2026, 8, 17)),
        # 10-23 + 30 = 11-22 Sun, ordinary weekend -> Mon 11-23
        (date(2026, 10, 20), date(2026, 10, 23), date(2026, 11, 23)),
        # 09-10 + 30 = 10-10 Sat, make-up working day (调休): NOT moved
        (date(2026, 9, 10), date(2026, 9, 10), date(2026, 10, 10)),
        # 01-29 + 30 = 02-28 Sat, make-up working day after Spring Festival: NOT moved
        (date(2026, 1, 29), date(2026, 1, 29), date(2026, 2, 28)),
        # 08-21 + 30 = 09-20 Sun, make-up working day before National Day: NOT moved
        (date(2026, 8, 21), date(2026, 8, 21), date(2026, 9, 20)),
        # 2025-12-02 + 30 = 01-01 New Year 01-01..01-03 -> Sun 01-04, a make-up working day
        (date(2025, 12, 2), date(2025, 12, 2), date(2026, 1, 4)),
    ],
)
def test_guizhou_later_of_acceptance_and_invoice(acceptance: date, invoice: date, expected: date) -> None:
    assert payment_deadline(GUIZHOU, acceptance, invoice, LIBRARY) == expected


def test_guizhou_without_invoice_date_has_no_deadline_yet() -> None:
    with pytest.raises(InvoiceDateRequired):
        payment_deadline(GUIZHOU, date(2026, 3, 2), None, LIBRARY)


@pytest.mark.parametrize(
    ("acceptance", "invoice", "expected"),
    [
        # 09-03 + 30 = 10-03 Sat, National Day -> 10-08; the later invoice is ignored
        (date(2026, 9, 3), date(2026, 9, 20), date(2026, 10, 8)),
        # 03-02 + 30 = 04-01 Wed, working; no invoice needed
        (date(2026, 3, 2), None, date(2026, 4, 1)),
        # 01-15 + 30 = 02-14 Sat, make-up working day: NOT moved
        (date(2026, 1, 15), None, date(2026, 2, 14)),
    ],
)
def test_hubei_acceptance_plus_days(acceptance: date, invoice: date | None, expected: date) -> None:
    assert payment_deadline(HUBEI, acceptance, invoice, LIBRARY) == expected


@pytest.mark.parametrize(
    ("acceptance", "expected"),
    [
        (date(2026, 8, 15), date(2026, 9, 30)),  # 09-30 Wed, working
        (date(2026, 8, 31), date(2026, 9, 30)),  # last day of a month: still next month's end
        (date(2026, 9, 1), date(2026, 11, 2)),  # 10-31 Sat, weekend -> Mon 11-02
        (date(2026, 1, 10), date(2026, 2, 28)),  # 02-28 Sat, make-up working day: NOT moved
        (date(2026, 1, 31), date(2026, 2, 28)),  # short month: 02-28, make-up working day
        (date(2026, 4, 30), date(2026, 6, 1)),  # 05-31 Sun -> Mon 06-01
        (date(2025, 12, 10), date(2026, 2, 2)),  # December -> 2026-01-31 Sat -> Mon 02-02
    ],
)
def test_liangjiang_end_of_month_after_acceptance(acceptance: date, expected: date) -> None:
    assert payment_deadline(LIANGJIANG, acceptance, None, LIBRARY) == expected


@pytest.mark.skipif(2027 in LIBRARY_YEARS, reason="chinesecalendar now covers 2027")
def test_deadline_in_an_uncovered_year_raises() -> None:
    # December 2026 -> 2027-01-31: the library has no 2027 schedule
    with pytest.raises(CalendarYearNotCovered):
        payment_deadline(LIANGJIANG, date(2026, 12, 10), None, LIBRARY)


def test_deadlines_in_a_year_covered_by_a_calendar_file() -> None:
    # December 2026 -> 2027-01-31 Sun, a make-up working day in the example file: NOT moved
    assert payment_deadline(LIANGJIANG, date(2026, 12, 10), None, WITH_2027) == date(2027, 1, 31)
    # 2027-01-09 + 30 = 02-08 Mon, example Spring Festival 02-06..02-12 -> Sat 13, Sun 14 -> 02-15
    deadline = payment_deadline(GUIZHOU, date(2027, 1, 5), date(2027, 1, 9), WITH_2027)
    assert deadline == date(2027, 2, 15)
