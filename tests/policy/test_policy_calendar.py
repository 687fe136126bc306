"""Working-day calendar against the State Council's official 2026 schedule.

国务院办公厅关于2026年部分节假日安排的通知 (国办发明电〔2025〕7号, 2025-11-04):
  元旦   01-01 (Thu) - 01-03 (Sat) rest; 01-04 (Sun) work
  春节   02-15 (Sun) - 02-23 (Mon) rest; 02-14 (Sat), 02-28 (Sat) work
  清明   04-04 (Sat) - 04-06 (Mon) rest
  劳动节 05-01 (Fri) - 05-05 (Tue) rest; 05-09 (Sat) work
  端午   06-19 (Fri) - 06-21 (Sun) rest
  中秋   09-25 (Fri) - 09-27 (Sun) rest
  国庆   10-01 (Thu) - 10-07 (Wed) rest; 09-20 (Sun), 10-10 (Sat) work
Expected values below are derived by hand from this schedule.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from jicai_policy import (
    LIBRARY_YEARS,
    CalendarYearNotCovered,
    PolicyFileError,
    WorkingDayCalendar,
    load_calendar,
)

DATA = Path(__file__).parent / "data"
LIBRARY = WorkingDayCalendar()
WITH_2027 = load_calendar([DATA / "calendars"])

OFFICIAL_2026_REST_BLOCKS = [
    (date(2026, 1, 1), date(2026, 1, 3)),
    (date(2026, 2, 15), date(2026, 2, 23)),
    (date(2026, 4, 4), date(2026, 4, 6)),
    (date(2026, 5, 1), date(2026, 5, 5)),
    (date(2026, 6, 19), date(2026, 6, 21)),
    (date(2026, 9, 25), date(2026, 9, 27)),
    (date(2026, 10, 1), date(2026, 10, 7)),
]
OFFICIAL_2026_MAKEUP_WORKING_DAYS = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}


def _official_2026_is_working(day: date) -> bool:
    if day in OFFICIAL_2026_MAKEUP_WORKING_DAYS:
        return True
    if any(first <= day <= last for first, last in OFFICIAL_2026_REST_BLOCKS):
        return False
    return day.weekday() < 5


def test_library_2026_matches_the_state_council_notice_day_by_day() -> None:
    day = date(2026, 1, 1)
    mismatches = []
    while day.year == 2026:
        if LIBRARY.is_working_day(day) != _official_2026_is_working(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),  # Thu, New Year's Day
        (date(2026, 1, 3), False),  # Sat, New Year's Day block
        (date(2026, 1, 4), True),  # Sun, make-up working day for New Year
        (date(2026, 2, 14), True),  # Sat, make-up working day before Spring Festival
        (date(2026, 2, 16), False),  # Mon, Spring Festival
        (date(2026, 2, 23), False),  # Mon, last day of Spring Festival
        (date(2026, 2, 24), True),  # Tue, first working day after Spring Festival
        (date(2026, 2, 28), True),  # Sat, make-up working day after Spring Festival
        (date(2026, 3, 7), False),  # Sat, ordinary weekend
        (date(2026, 3, 9), True),  # Mon, ordinary working day
        (date(2026, 4, 6), False),  # Mon, Qingming
        (date(2026, 5, 5), False),  # Tue, Labour Day block
        (date(2026, 5, 9), True),  # Sat, make-up working day for Labour Day
        (date(2026, 6, 19), False),  # Fri, Dragon Boat Festival
        (date(2026, 9, 20), True),  # Sun, make-up working day for National Day
        (date(2026, 9, 25), False),  # Fri, Mid-autumn Festival
        (date(2026, 10, 7), False),  # Wed, National Day block
        (date(2026, 10, 10), True),  # Sat, make-up working day for National Day
        (date(2026, 10, 11), False),  # Sun, ordinary weekend
    ],
)
def test_working_and_rest_days_2026(day: date, working: bool) -> None:
    assert LIBRARY.is_working_day(day) is working
    assert LIBRARY.is_rest_day(day) is not working


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 3, 9), date(2026, 3, 9)),  # Mon, already a working day
        (date(2026, 3, 7), date(2026, 3, 9)),  # Sat, ordinary weekend -> Mon
        (date(2026, 2, 14), date(2026, 2, 14)),  # Sat, make-up working day: stays
        (date(2026, 2, 15), date(2026, 2, 24)),  # Spring Festival 02-15..02-23 -> Tue
        (date(2026, 10, 1), date(2026, 10, 8)),  # National Day 10-01..10-07 -> Thu
        (date(2026, 1, 1), date(2026, 1, 4)),  # New Year 01-01..01-03 -> Sun 01-04 (make-up)
    ],
)
def test_next_working_day_on_or_after(day: date, expected: date) -> None:
    assert LIBRARY.next_working_day_on_or_after(day) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 3, 2), 0, date(2026, 3, 2)),  # zero working days: the day itself
        (date(2026, 3, 2), 5, date(2026, 3, 9)),  # Mon + 5: Tue..Fri, next Mon
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Fri + 1: Sat 02-14 is a make-up day
        (date(2026, 2, 13), 2, date(2026, 2, 24)),  # then Spring Festival 02-15..02-23
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day 10-01..10-07 skipped
        (date(2026, 9, 30), 3, date(2026, 10, 10)),  # 10-08 Thu, 10-09 Fri, 10-10 Sat make-up
        (date(2025, 12, 31), 1, date(2026, 1, 4)),  # across the year: New Year, Sun make-up
    ],
)
def test_add_working_days_does_not_count_the_start_day(start: date, n: int, expected: date) -> None:
    assert LIBRARY.add_working_days(start, n) == expected


def test_add_negative_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        LIBRARY.add_working_days(date(2026, 3, 2), -1)


def test_library_years_include_2026() -> None:
    assert 2026 in LIBRARY_YEARS
    assert LIBRARY.covers(2026)


@pytest.mark.parametrize("year", [LIBRARY_YEARS.start - 1, LIBRARY_YEARS.stop, 2099])
def test_year_not_covered_raises_naming_the_year(year: int) -> None:
    with pytest.raises(CalendarYearNotCovered) as caught:
        LIBRARY.is_working_day(date(year, 6, 1))
    assert caught.value.year == year
    assert f"year {year}" in str(caught.value)
    assert f"cn-{year}.toml" in str(caught.value)
    assert "JICAI_CALENDAR_DIR" in str(caught.value)


def test_crossing_into_an_uncovered_year_raises() -> None:
    last_covered = date(LIBRARY_YEARS.stop - 1, 12, 31)
    with pytest.raises(CalendarYearNotCovered):
        LIBRARY.add_working_days(last_covered, 3)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2027, 1, 1), False),  # Fri, example New Year holiday
        (date(2027, 1, 4), True),  # Mon, ordinary weekday
        (date(2027, 1, 9), False),  # Sat, ordinary weekend
        (date(2027, 1, 31), True),  # Sun, example make-up working day
        (date(2027, 2, 8), False),  # Mon, example Spring Festival
        (date(2027, 2, 20), True),  # Sat, example make-up working day
    ],
)
def test_calendar_file_covers_an_uncovered_year(day: date, working: bool) -> None:
    assert WITH_2027.is_working_day(day) is working
    assert WITH_2027.source_of(2027).startswith("示例")


def test_calendar_file_replaces_the_library_for_its_whole_year() -> None:
    overridden = load_calendar([DATA / "calendar-override-2026" / "cn-2026.toml"])
    assert overridden.is_rest_day(date(2026, 3, 9))  # Mon, holiday in the file
    assert overridden.is_working_day(date(2026, 10, 1))  # Thu, National Day not in the file
    assert overridden.is_rest_day(date(2026, 2, 14))  # Sat, library's make-up day not in it
    assert overridden.is_working_day(date(2025, 10, 9))  # 2025 still from the library (Thu)
    assert overridden.is_rest_day(date(2025, 10, 1))  # 2025 National Day from the library


@pytest.mark.parametrize(
    ("file_name", "field", "reason"),
    [
        ("wrong-year.toml", "holidays", "dates outside year 2028: 2029-01-01"),
        (
            "holiday-and-workday.toml",
            "makeup_working_days",
            "both holiday and make-up working day: 2028-01-29",
        ),
        ("makeup-on-weekday.toml", "makeup_working_days", "2028-01-03"),
        ("unknown-key.toml", "workdays", "Extra inputs are not permitted"),
    ],
)
def test_invalid_calendar_files_are_refused(file_name: str, field: str, reason: str) -> None:
    path = DATA / "invalid-calendars" / file_name
    with pytest.raises(PolicyFileError) as caught:
        load_calendar([path])
    assert caught.value.path == path
    assert any(f == field and reason in r for f, r in caught.value.problems), caught.value
    assert f"{path}: {field}: " in str(caught.value)


def test_two_files_for_the_same_year_are_refused() -> None:
    path = DATA / "calendars" / "cn-2027.toml"
    with pytest.raises(PolicyFileError, match="year 2027 is already defined by"):
        load_calendar([path, path])


def test_datetimes_are_refused_so_callers_pick_the_shanghai_date() -> None:
    with pytest.raises(TypeError, match="Asia/Shanghai"):
        LIBRARY.is_working_day(datetime(2026, 10, 1, 20, 0))


def test_a_year_added_at_run_time_extends_what_is_covered_without_touching_other_years() -> None:
    from jicai_policy import LIBRARY_YEARS, YearCalendar, load_calendar

    base = load_calendar(include_packaged=False)
    last = max(LIBRARY_YEARS)
    extra = YearCalendar(last + 1, "test", frozenset({date(last + 1, 1, 1)}), frozenset())

    extended = base.with_years(extra)

    assert (base.covered_until(), extended.covered_until()) == (date(last, 12, 31), date(last + 1, 12, 31))
    assert not base.covers(last + 1) and extended.source_of(last + 1) == "test"
    assert extended.is_working_day(date(last, 6, 1)) == base.is_working_day(date(last, 6, 1))
