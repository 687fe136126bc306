"""Policy changes made on the running system, folded over the packaged profiles.

An operator assigns a pooling region to a profile version, sets (or withdraws) a
rule's go-live in a region, or loads next year's working-day calendar. Each is an
event on the policy topic; every service stores the ones it has read and folds them,
in the order the topic gave them, over the packaged files (``fold``). The writer
decides whether a change may be made (``decide_*``) against the same fold, so what
it accepts every service can apply.

Pure: plain data in, a ``PolicyBook`` out.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from jicai_policy.book import PolicyBook
from jicai_policy.calendar import WorkingDayCalendar, YearCalendar
from jicai_policy.errors import PolicyError
from jicai_policy.loading import GO_LIVE_RULES, RegionEntry


def event_origin(event_id: str) -> str:
    """How an entry names the event it comes from (``GET /policy/regions/{code}``)."""
    return f"event:{event_id}"


@dataclass(frozen=True)
class RegionAssigned:
    """From ``effective_from`` on, ``region_code`` follows ``(profile_id, version)``."""

    event_id: str
    region_code: str
    region_name: str
    profile_id: str
    version: int
    effective_from: date
    source: str


@dataclass(frozen=True)
class GoLiveSet:
    """The platform decides ``rule`` (a go-live field, e.g. ``volume_completion_from``) in the region from ``go_live`` on;
    ``None``: withdrawn, the region falls back to what ``regions.toml`` says."""

    event_id: str
    region_code: str
    rule: str
    go_live: date | None
    source: str


@dataclass(frozen=True)
class CalendarYearAdded:
    """The working-day calendar of one more year."""

    event_id: str
    year: YearCalendar


PolicyChange = RegionAssigned | GoLiveSet | CalendarYearAdded


@dataclass(frozen=True)
class Folded:
    book: PolicyBook
    skipped: tuple[tuple[str, str], ...] = ()
    """``(event_id, reason)`` of changes this deployment cannot apply (e.g. a profile version it does not ship yet):
    kept, and folded again once a redeploy brings the profile."""


def fold(base: PolicyBook, changes: Iterable[PolicyChange]) -> Folded:
    """The book after ``changes``, in order. Total: a change that cannot apply here is skipped with its reason."""
    regions = {code: list(entries) for code, entries in base.regions.items()}
    calendar = base.calendar
    go_lives: dict[tuple[str, str], tuple[date | None, str]] = {}
    skipped: list[tuple[str, str]] = []
    for change in changes:
        if isinstance(change, RegionAssigned):
            reason = _assign(base, regions, change)
        elif isinstance(change, GoLiveSet):
            reason = None if change.rule in GO_LIVE_RULES else f"unknown rule go-live {change.rule!r}"
            if reason is None:
                go_lives[(change.region_code, change.rule)] = (change.go_live, change.event_id)
        else:
            reason = _calendar_refusal(calendar, change.year)
            if reason is None and not calendar.covers(change.year.year):
                calendar = calendar.with_years(change.year)
        if reason is not None:
            skipped.append((change.event_id, reason))
    for (code, rule), (day, event_id) in go_lives.items():
        if day is not None and code in regions:
            regions[code] = [_with_go_live(entry, rule, day, event_origin(event_id)) for entry in regions[code]]
    book = replace(base, regions={code: tuple(entries) for code, entries in regions.items()}, calendar=calendar)
    return Folded(book, tuple(skipped))


def _assign(base: PolicyBook, regions: dict[str, list[RegionEntry]], change: RegionAssigned) -> str | None:
    if (change.profile_id, change.version) not in base.profiles:
        return f"profile {change.profile_id} version {change.version} is not in this deployment's profiles"
    entries = regions.setdefault(change.region_code, [])
    if any(entry.effective_from == change.effective_from for entry in entries):
        return f"region {change.region_code} has an assignment from {change.effective_from} already"
    before = [entry for entry in entries if entry.effective_from < change.effective_from]
    inherited = {field: getattr(before[-1], field) for field in GO_LIVE_RULES} if before else {}
    origins = before[-1].go_live_origins if before else ()
    entries.append(
        RegionEntry(
            change.region_code, change.region_name, change.profile_id, change.version, change.effective_from,
            **inherited, source=change.source, origin=event_origin(change.event_id), go_live_origins=origins,
        )
    )
    entries.sort(key=lambda entry: entry.effective_from)
    return None


def _with_go_live(entry: RegionEntry, rule: str, day: date, origin: str) -> RegionEntry:
    origins = dict(entry.go_live_origins) | {rule: origin}
    return replace(entry, **{rule: day}, go_live_origins=tuple(sorted(origins.items())))  # type: ignore[arg-type]


def _calendar_refusal(calendar: WorkingDayCalendar, year: YearCalendar) -> str | None:
    if not calendar.covers(year.year) or _same_days(calendar, year):
        return None
    return f"the calendar of {year.year} is covered already by {calendar.source_of(year.year)} with other days"


def _same_days(calendar: WorkingDayCalendar, year: YearCalendar) -> bool:
    known = calendar.loaded_year(year.year)
    return known is not None and (known.holidays, known.makeup_working_days) == (year.holidays, year.makeup_working_days)


# -- the writer's decisions ------------------------------------------------------------------------------------


class ChangeRefused(PolicyError):
    """The change is invalid as asked (422): ``field`` and ``reason``."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


class ChangeConflicts(PolicyError):
    """The change contradicts one made already, or one decisions were taken with (409)."""


def decide_assignment(book: PolicyBook, change: RegionAssigned, closed_through: date | None) -> bool:
    """True: record it; False: recorded already (same content). ``closed_through``: the last business day closed."""
    if (change.profile_id, change.version) not in book.profiles:
        known = ", ".join(sorted(f"{pid} v{v}" for pid, v in book.profiles))
        raise ChangeRefused("profile_id", f"no profile {change.profile_id} version {change.version} (known: {known})")
    entries = book.regions.get(change.region_code, ())
    same_day = next((entry for entry in entries if entry.effective_from == change.effective_from), None)
    if same_day is not None:
        if (same_day.profile_id, same_day.version, same_day.region_name) == (change.profile_id, change.version, change.region_name):
            return False
        raise ChangeConflicts(
            f"region {change.region_code} follows {same_day.profile_id} version {same_day.version} from {change.effective_from} "
            f"already ({same_day.origin}); a later change is a new assignment with its own effective_from"
        )
    if entries and closed_through is not None and change.effective_from <= closed_through:
        raise ChangeRefused(
            "effective_from",
            f"business days up to {closed_through} are closed: decisions in region {change.region_code} were taken under "
            f"the profile in force then; an assignment takes effect from a day not yet closed",
        )
    return True


def current_go_live(book: PolicyBook, region_code: str, rule: str) -> date | None:
    """The rule's go-live in force in the region (its latest assignment carries it)."""
    entries = book.regions.get(region_code, ())
    return getattr(entries[-1], rule) if entries else None


def decide_go_live(book: PolicyBook, change: GoLiveSet, closed_through: date | None) -> bool:
    """True: record it; False: the go-live in force is that already. A go-live already reached is final."""
    if change.rule not in GO_LIVE_RULES:
        raise ChangeRefused("rule", f"one of {', '.join(GO_LIVE_RULES)}")
    entries = book.regions.get(change.region_code, ())
    if not entries:
        raise ChangeRefused("region_code", f"no profile is assigned to region {change.region_code}: assign one first")
    current = current_go_live(book, change.region_code, change.rule)
    if current == change.go_live:
        return False
    if current is not None and closed_through is not None and current <= closed_through:
        raise ChangeConflicts(
            f"{change.rule} of region {change.region_code} is {current}, reached already (business days up to {closed_through} "
            f"are closed): decisions were taken with it"
        )
    if change.go_live is None:
        return True
    if change.go_live < entries[0].effective_from:
        raise ChangeRefused("from", f"{change.go_live} is before region {change.region_code}'s first assignment ({entries[0].effective_from})")
    if closed_through is not None and change.go_live <= closed_through:
        raise ChangeRefused("from", f"business days up to {closed_through} are closed: a go-live takes effect from a day not yet closed")
    profile = book.profile_for(change.region_code, change.go_live)
    section = GO_LIVE_RULES[change.rule]
    if getattr(profile, section) is None:
        raise ChangeRefused("from", f"on {change.go_live} region {change.region_code} follows {profile.profile_id} version {profile.version}, "
                            f"which has no [{section}] section to go live with")
    return True


def decide_calendar_year(book: PolicyBook, year: YearCalendar) -> bool:
    """True: record it; False: the same days are known already. Other days for a covered year: refused (decisions may
    have been taken with them)."""
    if not book.calendar.covers(year.year):
        return True
    if _same_days(book.calendar, year):
        return False
    raise ChangeConflicts(f"the calendar of {year.year} is covered already by {book.calendar.source_of(year.year)} with other days")
