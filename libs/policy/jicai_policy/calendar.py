"""China's working-day calendar (工作日 / 休息日), including make-up working days (调休).

Working and rest days follow the State Council's yearly holiday schedule
(国务院办公厅关于部分节假日安排的通知): public holidays are rest days even on
weekdays, make-up working days (调休上班) are working days even on weekends,
every other Saturday and Sunday is a rest day and every other weekday a
working day.

The schedules come from the maintained ``chinesecalendar`` library; years it
does not know yet are covered by calendar files (TOML, see
``calendars/README.md``). A date in a year nobody covers raises
``CalendarYearNotCovered``: it is never treated as an ordinary year.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from jicai_policy._files import WHOLE_FILE, parse_model, read_toml, toml_files
from jicai_policy.errors import CalendarYearNotCovered, PolicyFileError

PACKAGED_CALENDAR_DIR = Path(__file__).parent / "calendars"


def _library_years() -> range:
    years = {d.year for d in chinese_calendar.constants.holidays}
    return range(min(years), max(years) + 1)


LIBRARY_YEARS: range = _library_years()
"""Years the installed ``chinesecalendar`` knows (both ends included in the range)."""


@dataclass(frozen=True)
class YearCalendar:
    """One year's holiday schedule, loaded from a calendar file."""

    year: int
    source: str
    holidays: frozenset[date]
    makeup_working_days: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        """Make-up working days work, holidays rest, otherwise Monday-Friday work."""
        if day in self.makeup_working_days:
            return True
        return day not in self.holidays and day.weekday() < 5


@dataclass(frozen=True)
class WorkingDayCalendar:
    """Working days of mainland China; calendar-file years win over the library.

    ``overrides`` are whole years: a year listed there ignores the library.
    """

    overrides: tuple[YearCalendar, ...] = ()
    _by_year: Mapping[int, YearCalendar] = field(init=False, repr=False, compare=False, hash=False)
    _added: dict[tuple[date, int], date] = field(init=False, repr=False, compare=False, hash=False)
    """``add_working_days`` answers already computed: a day close asks the same grace end for every invoice."""
    _working: dict[date, bool] = field(init=False, repr=False, compare=False, hash=False)
    """``is_working_day`` answers already computed: every invoice's deadline asks about the same few weeks, and
    the library checks its whole table of years on each call (~50 µs); a calendar never changes once built (a new
    year makes a new one, ``with_years``), so each day is asked once per calendar."""

    def __post_init__(self) -> None:
        index = {year_calendar.year: year_calendar for year_calendar in self.overrides}
        if len(index) != len(self.overrides):
            raise ValueError("two calendar overrides for the same year")
        object.__setattr__(self, "_by_year", MappingProxyType(index))
        object.__setattr__(self, "_added", {})
        object.__setattr__(self, "_working", {})

    def covers(self, year: int) -> bool:
        """Whether working days of ``year`` are known (from a file or the library)."""
        return year in self._by_year or year in LIBRARY_YEARS

    def loaded_year(self, year: int) -> YearCalendar | None:
        """The schedule of ``year`` from a calendar file or a loaded year; None when the library (or nobody) covers it."""
        return self._by_year.get(year)

    def with_years(self, *years: YearCalendar) -> WorkingDayCalendar:
        """This calendar with ``years`` added (each replaces what this calendar had for its year)."""
        index = {**self._by_year, **{y.year: y for y in years}}
        return WorkingDayCalendar(tuple(index[year] for year in sorted(index)))

    def covered_until(self) -> date:
        """The last day of the last year covered without a gap after the library's first year."""
        year = LIBRARY_YEARS.start
        while self.covers(year + 1):
            year += 1
        return date(year, 12, 31)

    def source_of(self, year: int) -> str:
        """Where the schedule of ``year`` comes from, for audit trails."""
        if year in self._by_year:
            return self._by_year[year].source
        if year in LIBRARY_YEARS:
            return f"chinesecalendar {chinese_calendar.__version__}"
        raise CalendarYearNotCovered(year, LIBRARY_YEARS)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` is a working day (工作日), make-up working days included.

        A ``datetime`` is refused: convert it to its Asia/Shanghai date first.
        """
        known = self._working.get(day)
        if known is not None:  # only dates are kept, and a datetime equals no date
            return known
        if isinstance(day, datetime):
            raise TypeError(f"expected a date (in Asia/Shanghai), got the datetime {day!r}")
        override = self._by_year.get(day.year)
        if override is not None:
            working = override.is_working_day(day)
        elif day.year not in LIBRARY_YEARS:
            raise CalendarYearNotCovered(day.year, LIBRARY_YEARS)
        else:
            working = bool(chinese_calendar.is_workday(day))
        self._working[day] = working
        return working

    def is_rest_day(self, day: date) -> bool:
        """Whether ``day`` is a statutory rest day (法定休假日): weekend or public holiday."""
        return not self.is_working_day(day)

    def next_working_day_on_or_after(self, day: date) -> date:
        """``day`` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day``; ``day`` itself is not counted.

        ``add_working_days(d, 0)`` is ``d``. Raises ``ValueError`` for negative ``n``.
        """
        if n < 0:
            raise ValueError(f"working days to add must not be negative, got {n}")
        known = self._added.get((day, n))
        if known is not None:
            return known
        added = day
        for _ in range(n):
            added = self.next_working_day_on_or_after(added + timedelta(days=1))
        self._added[(day, n)] = added  # the calendar never changes: the same question has the same answer
        return added


class CalendarFile(BaseModel):
    """Schema of one calendar file, e.g. ``cn-2027.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(ge=1949, le=2200)
    source: str = Field(min_length=1, description="the State Council notice it transcribes")
    holidays: tuple[date, ...]
    makeup_working_days: tuple[date, ...] = ()

    @field_validator("holidays", "makeup_working_days")
    @classmethod
    def _dates_in_year_once(cls, days: tuple[date, ...], info: ValidationInfo) -> tuple[date, ...]:
        year = info.data.get("year")
        wrong = [d.isoformat() for d in days if year is not None and d.year != year]
        if wrong:
            raise ValueError(f"dates outside year {year}: {', '.join(wrong)}")
        repeated = sorted({d.isoformat() for d in days if days.count(d) > 1})
        if repeated:
            raise ValueError(f"dates listed twice: {', '.join(repeated)}")
        return days

    @field_validator("makeup_working_days")
    @classmethod
    def _makeup_days_are_weekend_non_holidays(cls, days: tuple[date, ...], info: ValidationInfo) -> tuple[date, ...]:
        holidays = set(info.data.get("holidays", ()))
        both = sorted(d.isoformat() for d in days if d in holidays)
        if both:
            raise ValueError(f"dates both holiday and make-up working day: {', '.join(both)}")
        weekdays = sorted(d.isoformat() for d in days if d.weekday() < 5)
        if weekdays:
            raise ValueError(
                f"make-up working days (调休上班) must fall on a Saturday or Sunday; "
                f"these are already ordinary working days: {', '.join(weekdays)}"
            )
        return days

    def to_year_calendar(self) -> YearCalendar:
        """The in-memory form used by ``WorkingDayCalendar``."""
        return YearCalendar(
            self.year,
            self.source,
            frozenset(self.holidays),
            frozenset(self.makeup_working_days),
        )


def parse_calendar_text(text: str, origin: Path | str = "<request>") -> YearCalendar:
    """One calendar file's content (TOML text, e.g. sent to a running service); refused like a file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(origin, [(WHOLE_FILE, f"not valid TOML: {exc}")]) from exc
    return parse_model(CalendarFile, Path(origin), data).to_year_calendar()


def read_calendar_files(paths: Iterable[Path | str]) -> dict[int, YearCalendar]:
    """Load and validate calendar files (directories expand to their ``*.toml``).

    Two files for the same year are refused.
    """
    by_year: dict[int, YearCalendar] = {}
    origin: dict[int, Path] = {}
    for path in toml_files(paths):
        year_calendar = parse_model(CalendarFile, path, read_toml(path)).to_year_calendar()
        if year_calendar.year in origin:
            reason = f"year {year_calendar.year} is already defined by {origin[year_calendar.year]}"
            raise PolicyFileError(path, [("year", reason)])
        by_year[year_calendar.year] = year_calendar
        origin[year_calendar.year] = path
    return by_year


def load_calendar(override_paths: Iterable[Path | str] = (), *, include_packaged: bool = True) -> WorkingDayCalendar:
    """Build the calendar: library, then packaged calendar files, then ``override_paths``.

    Each later layer wins over the earlier ones for the whole year it defines.
    ``override_paths`` may name files or directories of ``*.toml`` files.
    """
    years: dict[int, YearCalendar] = {}
    if include_packaged:
        years.update(read_calendar_files([PACKAGED_CALENDAR_DIR]))
    years.update(read_calendar_files(override_paths))
    return WorkingDayCalendar(tuple(years[year] for year in sorted(years)))
