"""The State Council's yearly holiday notice (国务院办公厅关于N年部分节假日安排的通知) read into a calendar file.

The notice, as published, lists per festival its rest block (``1月1日（周四）至3日（周六）放假调休，
共3天``, older notices ``1月1日放假，1月2日（星期一）补休``) and the weekend days worked in exchange
(``1月4日（周日）上班``). ``read_notice`` turns the text into a ``CalendarFile`` (the format
``JICAI_CALENDAR_DIR`` and ``PUT /calendars/{year}`` read) and checks it: a stated weekday must be the
date's, a stated day count (共N天) the block's length, make-up working days must be weekends, and every
statutory holiday of the year (``statutory_holidays.toml``, 《全国年节及纪念日放假办法》) must be a rest day.
Any failure raises ``PolicyFileError`` naming the festival and the reason; nothing is guessed.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
from lunardate import LunarDate

from jicai_policy.calendar import CalendarFile
from jicai_policy.errors import PolicyFileError

STATUTORY_HOLIDAYS_FILE = Path(__file__).parent / "statutory_holidays.toml"

_TITLE = re.compile(r"关于(\d{4})年部分节假日安排的通知")
_ITEM = re.compile(r"^\s*([一二三四五六七八九十]+)、([^：:]+)[：:](.*)$")
_DATE = re.compile(r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:（([^）]*)）)?")
_RANGE = re.compile(rf"{_DATE.pattern}至{_DATE.pattern}")
_DAYS_STATED = re.compile(r"共(\d+)天")
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")
_WEEKDAYS = "一二三四五六日"


@dataclass
class _Reading:
    year: int
    holidays: set[date] = field(default_factory=set)
    makeup: set[date] = field(default_factory=set)
    problems: list[tuple[str, str]] = field(default_factory=list)


def read_notice(text: str, origin: Path | str = "<notice>") -> CalendarFile:
    """The calendar file of the year the notice arranges; ``PolicyFileError`` naming each inconsistency."""
    title = _TITLE.search(text)
    if title is None:
        raise PolicyFileError(origin, [("title", "no 国务院办公厅关于N年部分节假日安排的通知 title: is this the notice?")])
    reading = _Reading(int(title.group(1)))
    festivals: list[str] = []
    for line in text.splitlines():
        item = _ITEM.match(line)
        if item is None:
            continue
        names = [n.strip() for n in item.group(2).split("、")]
        festivals += names
        _read_item("、".join(names), item.group(3), reading)
    if not festivals:
        reading.problems.append(("items", "no 一、…：… festival items found"))
    _check_statutory(festivals, reading)
    if reading.problems:
        raise PolicyFileError(origin, reading.problems)
    source = _source(text, reading.year)
    try:
        return CalendarFile(
            year=reading.year, source=source, holidays=tuple(sorted(reading.holidays)),
            makeup_working_days=tuple(sorted(reading.makeup)),
        )
    except ValueError as exc:
        raise PolicyFileError(origin, [("calendar", str(exc))]) from exc


def _read_item(festival: str, body: str, reading: _Reading) -> None:
    """One festival's sentences: clauses with 放假 or 补休 give rest days, clauses with 上班 make-up working days."""
    for clause in re.split(r"[，。；]", body):
        if "放假" in clause or "补休" in clause:
            block = _dates(festival, clause, reading)
            reading.holidays |= set(block)
            stated = _DAYS_STATED.search(body[body.find(clause) :])
            if "至" in clause and stated and int(stated.group(1)) != len(block):
                reading.problems.append((festival, f"{clause}: {len(block)} days, the notice says 共{stated.group(1)}天"))
        elif "上班" in clause:
            reading.makeup |= set(_dates(festival, clause, reading))


def _dates(festival: str, clause: str, reading: _Reading) -> list[date]:
    """Every date a clause names (ranges 至 expanded), checking stated weekdays; dates of other years are left out."""
    found: list[date] = []
    last = (reading.year, 1)
    position = 0
    while (match := _next_date(clause, position)) is not None:
        if match.re is _RANGE:
            first, last = _date(match.groups()[:4], last, festival, reading)
            end, last = _date(match.groups()[4:], last, festival, reading)
            found += [first + timedelta(days=i) for i in range((end - first).days + 1)]
        else:
            day, last = _date(match.groups(), last, festival, reading)
            found.append(day)
        position = match.end()
    if not found:
        reading.problems.append((festival, f"{clause}: no date found"))
    other_years = [d for d in found if d.year != reading.year]
    for day in other_years:
        if day.weekday() < 5:
            reading.problems.append((festival, f"{day} is in another year: put it in the calendar of {day.year}"))
    return [d for d in found if d.year == reading.year]


def _next_date(clause: str, position: int) -> re.Match[str] | None:
    """The first range (``A至B``) or single date from ``position`` on, a range winning where both start."""
    candidates = [m for m in (_RANGE.search(clause, position), _DATE.search(clause, position)) if m is not None]
    return min(candidates, key=lambda m: m.start(), default=None)


def _date(groups: tuple[str | None, ...], last: tuple[int, int], festival: str, reading: _Reading) -> tuple[date, tuple[int, int]]:
    """One date, its year and month defaulting to the previous one's (``1月1日至3日``); checks a stated weekday."""
    year_text, month_text, day_text, note = groups
    year = int(year_text) if year_text else last[0]
    month = int(month_text) if month_text else last[1]
    day = date(year, month, int(day_text or 0))
    weekday = _WEEKDAY.search(note or "")
    if weekday is not None:
        stated = _WEEKDAYS.index(weekday.group(1).replace("天", "日"))
        if stated != day.weekday():
            reading.problems.append((festival, f"{day} is a {_WEEKDAYS[day.weekday()]}, the notice says 周{weekday.group(1)}"))
    return day, (year, month)


def statutory_holidays(year: int) -> dict[str, tuple[date, ...]]:
    """The statutory holidays (法定节假日) of ``year`` per festival, under the decree's version in force then."""
    with STATUTORY_HOLIDAYS_FILE.open("rb") as handle:
        versions = tomllib.load(handle)["versions"]
    in_force = [v for v in versions if v["from_year"] <= year]
    if not in_force:
        raise ValueError(f"no statutory holiday rules for {year} in {STATUTORY_HOLIDAYS_FILE.name}")
    festivals: dict[str, list[str]] = in_force[-1]["festivals"]
    return {name: tuple(_statutory_day(year, spec) for spec in specs) for name, specs in festivals.items()}


def _statutory_day(year: int, spec: str) -> date:
    kind, _, value = spec.partition(":")
    if kind == "solar":
        return date.fromisoformat(f"{year}-{value}")
    if kind == "lunar" and value == "eve":
        new_year: date = LunarDate(year, 1, 1).to_solar_date()  # untyped library
        return new_year - timedelta(days=1)
    if kind == "lunar":
        month, day = map(int, value.split("-"))
        solar: date = LunarDate(year, month, day).to_solar_date()
        return solar
    if kind == "term":
        terms: list[tuple[date, str]] = chinese_calendar.get_solar_terms(date(year, 1, 1), date(year, 12, 31))
        return next(d for d, name in terms if name == value)
    raise ValueError(f"unknown statutory day {spec!r}")


def _check_statutory(festivals: list[str], reading: _Reading) -> None:
    """Every statutory holiday of the year is a rest day of the notice, and every festival has an item."""
    for festival, days in statutory_holidays(reading.year).items():
        if festival not in festivals:
            reading.problems.append((festival, "the notice has no item for this statutory holiday"))
            continue
        working = [d for d in days if d.year == reading.year and d not in reading.holidays]
        if working:
            listed = ", ".join(d.isoformat() for d in working)
            reading.problems.append((festival, f"statutory holiday not a rest day in the notice: {listed}"))


def _source(text: str, year: int) -> str:
    number = re.search(r"国办发明电〔\d{4}〕\d+号", text)
    title = f"国务院办公厅关于{year}年部分节假日安排的通知"
    return f"{title}（{number.group(0)}）" if number else title


def to_toml(calendar: CalendarFile) -> str:
    """The calendar file's text (``cn-<year>.toml``); three keys, so written here rather than with a TOML writer."""
    def dates(days: tuple[date, ...]) -> str:
        return "[" + ", ".join(d.isoformat() for d in days) + "]"

    return (
        f"year = {calendar.year}\n"
        f'source = "{calendar.source}"\n'
        "# rest days (放假), weekend days inside a holiday block included\n"
        f"holidays = {dates(calendar.holidays)}\n"
        "# weekend days that are working days (调休上班)\n"
        f"makeup_working_days = {dates(calendar.makeup_working_days)}\n"
    )
