"""R2 warning and withheld settlement (预警 → 暂缓拨付), Guizhou 000 §五(三), on real 2026 dates.

Official 2026 schedule (国办发明电〔2025〕7号): rest 01-01..01-03, 02-15..02-23,
04-04..04-06, 05-01..05-05, 06-19..06-21, 09-25..09-27, 10-01..10-07; make-up
working days 01-04 (Sun), 02-14 (Sat), 02-28 (Sat), 05-09 (Sat), 09-20 (Sun),
10-10 (Sat). Working days are counted by hand in each comment; the warning
day itself is not counted.
"""

from __future__ import annotations

from datetime import date

import pytest

from jicai_policy import (
    OverduePolicy,
    WarningSchedule,
    WorkingDayCalendar,
    first_overdue_day,
    grace_end_date,
    load_policy_book,
    load_profile_file,
    payment_deadline,
    warning_date,
    withhold_date,
)
from jicai_policy.loading import PACKAGED_PROFILE_DIR

LIBRARY = WorkingDayCalendar()
GUIZHOU = load_profile_file(PACKAGED_PROFILE_DIR / "guizhou-2020.toml").overdue
MONTHLY_ON_5TH = OverduePolicy(
    grace_working_days=10,
    warning_schedule=WarningSchedule.MONTHLY_MONITORING,
    monitoring_day_of_month=5,
    source="test",
)


def test_guizhou_profile_values() -> None:
    assert GUIZHOU.grace_working_days == 10
    assert GUIZHOU.warning_schedule is WarningSchedule.FIRST_OVERDUE_DAY


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (date(2026, 3, 10), date(2026, 3, 11)),  # Tue -> Wed
        (date(2026, 10, 8), date(2026, 10, 9)),  # deadline moved past National Day -> Fri
        (date(2026, 9, 30), date(2026, 10, 1)),  # a calendar day: National Day holiday itself
        (date(2026, 12, 31), date(2027, 1, 1)),  # no calendar needed, even for 2027
    ],
)
def test_warning_on_first_overdue_day(deadline: date, expected: date) -> None:
    assert first_overdue_day(deadline) == expected
    assert warning_date(deadline, GUIZHOU, LIBRARY) == expected


@pytest.mark.parametrize(
    ("deadline", "policy", "expected"),
    [
        # overdue from 03-03 -> April 5 is Sun in Qingming 04-04..04-06 -> Tue 04-07
        (date(2026, 3, 2), MONTHLY_ON_5TH, date(2026, 4, 7)),
        # overdue from 10-01 -> Nov 5 Thu, working
        (date(2026, 9, 30), MONTHLY_ON_5TH, date(2026, 11, 5)),
        # overdue from 2025-12-31 -> January 2026: Jan 5 Mon, working
        (date(2025, 12, 30), MONTHLY_ON_5TH, date(2026, 1, 5)),
        # overdue from 2025-12-31 -> Jan 4 Sun is a make-up working day: NOT moved
        (
            date(2025, 12, 30),
            MONTHLY_ON_5TH.model_copy(update={"monitoring_day_of_month": 4}),
            date(2026, 1, 4),
        ),
        # overdue from 01-31 -> Feb 15 Sun, Spring Festival 02-15..02-23 -> Tue 02-24
        (
            date(2026, 1, 30),
            MONTHLY_ON_5TH.model_copy(update={"monitoring_day_of_month": 15}),
            date(2026, 2, 24),
        ),
    ],
)
def test_warning_with_monthly_monitoring(deadline: date, policy: OverduePolicy, expected: date) -> None:
    assert warning_date(deadline, policy, LIBRARY) == expected


@pytest.mark.parametrize(
    ("warned_on", "grace_end", "withheld_from"),
    [
        # no holiday: 03-12,13,16,17,18,19,20,23,24,25 -> grace ends Wed 03-25
        (date(2026, 3, 11), date(2026, 3, 25), date(2026, 3, 26)),
        # crosses make-up Sat 10-10 (counted): 10-10,12,13,14,15,16,19,20,21,22
        (date(2026, 10, 9), date(2026, 10, 22), date(2026, 10, 23)),
        # crosses Qingming 04-04..04-06 (skipped): 04-02,03,07,08,09,10,13,14,15,16
        (date(2026, 4, 1), date(2026, 4, 16), date(2026, 4, 17)),
        # crosses Dragon Boat 06-19..06-21 (skipped): 06-16,17,18,22,23,24,25,26,29,30
        (date(2026, 6, 15), date(2026, 6, 30), date(2026, 7, 1)),
        # crosses Mid-autumn and National Day (skipped) and make-up Sat 10-10 (counted):
        # 09-28,29,30, 10-08,09,10,12,13,14,15
        (date(2026, 9, 24), date(2026, 10, 15), date(2026, 10, 16)),
        # warned on a holiday (10-01): 10-08,09,10(Sat make-up),12,13,14,15,16,19,20
        (date(2026, 10, 1), date(2026, 10, 20), date(2026, 10, 21)),
        # Spring Festival: 02-14 (Sat make-up), [02-15..02-23 rest], 02-24,25,26,27,
        # 02-28 (Sat make-up), 03-02,03,04,05
        (date(2026, 2, 13), date(2026, 3, 5), date(2026, 3, 6)),
    ],
)
def test_guizhou_ten_working_days_grace(warned_on: date, grace_end: date, withheld_from: date) -> None:
    assert grace_end_date(warned_on, GUIZHOU, LIBRARY) == grace_end
    assert withhold_date(warned_on, GUIZHOU, LIBRARY) == withheld_from


def test_zero_grace_withholds_the_day_after_the_warning() -> None:
    policy = GUIZHOU.model_copy(update={"grace_working_days": 0})
    assert withhold_date(date(2026, 3, 11), policy, LIBRARY) == date(2026, 3, 12)


def test_guizhou_chain_from_acceptance_to_withhold() -> None:
    book = load_policy_book()
    profile = book.profile_for("520100", date(2026, 9, 1))  # 贵阳市
    # 09-03 + 30 = 10-03 Sat, National Day -> deadline Thu 10-08
    deadline = payment_deadline(profile.payment_term, date(2026, 9, 1), date(2026, 9, 3), book.calendar)
    assert deadline == date(2026, 10, 8)
    warned = warning_date(deadline, profile.overdue, book.calendar)
    assert warned == date(2026, 10, 9)  # Fri
    # 10-10 (Sat make-up),12,13,14,15,16,19,20,21,22 -> withheld from Fri 10-23
    assert withhold_date(warned, profile.overdue, book.calendar) == date(2026, 10, 23)
