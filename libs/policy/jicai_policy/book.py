"""The policy book: every profile version, which pooling region follows which
since when, and the working-day calendar, loaded and validated together."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from types import MappingProxyType

from jicai_policy._files import toml_files
from jicai_policy.calendar import PACKAGED_CALENDAR_DIR, WorkingDayCalendar, load_calendar
from jicai_policy.errors import NoProfileForRegion, PolicyFileError, UnknownProfile
from jicai_policy.loading import (
    PACKAGED_PROFILE_DIR,
    REGIONS_FILE,
    RegionEntry,
    load_profiles,
    load_regions,
)
from jicai_policy.profiles import PolicyProfile

POLICY_DIR_ENV = "JICAI_POLICY_DIR"
CALENDAR_DIR_ENV = "JICAI_CALENDAR_DIR"


@dataclass(frozen=True, eq=False)
class PolicyBook:
    """All loaded profiles, the region mapping and the calendar."""

    profiles: Mapping[tuple[str, int], PolicyProfile]
    """Profiles by ``(profile_id, version)``."""
    regions: Mapping[str, tuple[RegionEntry, ...]]
    """Per pooling-region code, its entries sorted by ``effective_from``."""
    calendar: WorkingDayCalendar

    def with_calendar(self, calendar: WorkingDayCalendar) -> PolicyBook:
        """The same profiles and regions over another calendar (e.g. with a year loaded at run time)."""
        return replace(self, calendar=calendar)

    def get(self, profile_id: str, version: int) -> PolicyProfile:
        """The profile ``profile_id`` at ``version``; ``UnknownProfile`` if not loaded."""
        try:
            return self.profiles[(profile_id, version)]
        except KeyError:
            raise UnknownProfile(profile_id, version) from None

    def entry_for(self, region_code: str, on: date) -> RegionEntry:
        """The entry in force for ``region_code`` on ``on``: latest ``effective_from`` <= ``on``."""
        entries = self.regions.get(region_code, ())
        in_force = [entry for entry in entries if entry.effective_from <= on]
        if not in_force:
            first = entries[0].effective_from if entries else None
            raise NoProfileForRegion(region_code, on, first)
        return in_force[-1]

    def profile_for(self, region_code: str, on: date) -> PolicyProfile:
        """The profile pooling region (统筹区) ``region_code`` follows on ``on``.

        Raises ``NoProfileForRegion`` if the region is unknown or not yet assigned.
        """
        entry = self.entry_for(region_code, on)
        return self.get(entry.profile_id, entry.version)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value) if value else None


def load_policy_book(directory: Path | str | None = None, calendar_overrides: Sequence[Path | str] | None = None) -> PolicyBook:
    """Load and validate the profiles, the region mapping and the calendar.

    ``directory``: ``None`` means ``$JICAI_POLICY_DIR`` if set, else the
    packaged profiles. ``calendar_overrides`` (calendar files or directories
    of ``*.toml``): ``None`` means ``$JICAI_CALENDAR_DIR`` if set, else none;
    pass ``()`` to ignore the environment. Overrides are layered over the
    packaged calendar files and the ``chinesecalendar`` library. Any invalid
    file raises ``PolicyFileError`` naming the file, the field and the reason.
    """
    root = Path(directory) if directory is not None else _env_path(POLICY_DIR_ENV) or PACKAGED_PROFILE_DIR
    if not root.is_dir():
        raise PolicyFileError(root, [("<file>", "policy directory does not exist")])
    if calendar_overrides is None:
        calendar_dir = _env_path(CALENDAR_DIR_ENV)
        calendar_overrides = [calendar_dir] if calendar_dir is not None else []
    inputs = _inputs(root, calendar_overrides)
    loaded = _LOADED.get(inputs) if inputs is not None else None
    if loaded is not None:
        return loaded
    profiles = load_profiles(root)
    regions = load_regions(root / REGIONS_FILE, profiles)
    book = PolicyBook(MappingProxyType(profiles), MappingProxyType(regions), load_calendar(calendar_overrides))
    if inputs is not None:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.clear()
        _LOADED[inputs] = book
    return book


_LOADED: dict[tuple[object, ...], PolicyBook] = {}
"""Books loaded so far, by the bytes of every file they were read from. A book is immutable, so a process that
loads the same files again (every runtime a test builds; a service restarting its runtime) gets the same book
without parsing and validating them again; a changed file is read afresh, and a file that failed is never kept."""
_LOADED_MAX = 8


def _inputs(root: Path, calendar_overrides: Sequence[Path | str]) -> tuple[object, ...] | None:
    """What decides the book: the directories asked for and the content of every TOML file the load reads
    (``None`` when one cannot be read: the load itself then says which, and why)."""
    try:
        files = toml_files([root, PACKAGED_CALENDAR_DIR, *calendar_overrides])
        return (str(root), tuple(map(str, calendar_overrides)), tuple((str(path), path.read_bytes()) for path in files))
    except OSError:
        return None
