"""Reading and validating profile files and the region mapping (``regions.toml``).

Directory layout (the packaged ``jicai_policy/profiles/`` or ``JICAI_POLICY_DIR``):

* ``<profile_id>.toml`` or ``<profile_id>.v<version>.toml``: one profile version each;
* ``regions.toml``: ``[[assignment]]`` tables mapping pooling-region codes
  (统筹区, 6-digit administrative division codes, 行政区划代码) to a profile
  version from an ``effective_from`` date on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from jicai_policy._files import parse_model, read_toml, toml_files
from jicai_policy.errors import PolicyFileError
from jicai_policy.profiles import PolicyProfile

PACKAGED_PROFILE_DIR = Path(__file__).parent / "profiles"
REGIONS_FILE = "regions.toml"
FILE_ORIGIN = REGIONS_FILE

RegionCode = Annotated[str, Field(pattern=r"^[1-9]\d{5}$")]


class RegionAssignment(BaseModel):
    """Regions that follow one profile version from ``effective_from`` on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile_id: str
    version: int = Field(ge=1)
    effective_from: date
    source: str = Field(min_length=1)
    regions: dict[RegionCode, Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    volume_completion_from: date | None = Field(
        default=None,
        description=(
            "platform go-live of R3 (volume completion) in these regions: period ends from this day on are decided; "
            "unset: inherited from the region's earlier assignment, else R3 is not decided. Set it once the platform "
            "holds every acceptance since the agreement years began (a platform going live mid-year would otherwise "
            "warn and suspend institutions for purchases it never saw)"
        ),
    )
    non_winning_cap_from: date | None = Field(
        default=None,
        description=(
            "platform go-live of R4 (non-winning cap) in these regions: months from this day's month on are decided; "
            "unset: inherited from the region's earlier assignment, else R4 is not decided"
        ),
    )
    manufacturer_report_from: date | None = Field(
        default=None,
        description=(
            "platform go-live of the manufacturers' monthly report check in these regions: months from this day's month "
            "on are checked; unset: inherited from the region's earlier assignment, else not checked"
        ),
    )


class RegionsFile(BaseModel):
    """Schema of ``regions.toml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    assignment: tuple[RegionAssignment, ...]


@dataclass(frozen=True)
class RegionEntry:
    """From ``effective_from`` on, ``region_code`` follows ``(profile_id, version)``."""

    region_code: str
    region_name: str
    profile_id: str
    version: int
    effective_from: date
    volume_completion_from: date | None = None
    """R3 is decided for period ends from this day on (None: not decided in the region)."""
    non_winning_cap_from: date | None = None
    """R4 is decided for months from this day's month on (None: not decided in the region)."""
    manufacturer_report_from: date | None = None
    """Manufacturers' monthly reports are checked for months from this day's month on (None: not checked)."""
    source: str = ""
    """The notice (or operator's reason) the assignment cites."""
    origin: str = FILE_ORIGIN
    """Where the assignment comes from: ``regions.toml``, or ``event:<event id>`` of a ``RegionProfileAssigned``."""
    go_live_origins: tuple[tuple[str, str], ...] = ()
    """Per go-live field set (``volume_completion_from``…), where it comes from (``regions.toml`` or ``event:<id>``)."""

    def go_live_origin(self, field: str) -> str | None:
        """Where the go-live ``field`` in force comes from; None while the rule is not live."""
        if getattr(self, field) is None:
            return None
        return dict(self.go_live_origins).get(field, FILE_ORIGIN)


def parse_profile(data: Mapping[str, Any], origin: Path | str) -> PolicyProfile:
    """Validate profile ``data`` read from ``origin``; errors name origin, field and reason."""
    return parse_model(PolicyProfile, Path(origin), dict(data))


def load_profile_file(path: Path | str) -> PolicyProfile:
    """Read and validate one profile file."""
    return parse_profile(read_toml(Path(path)), path)


def load_profiles(directory: Path) -> dict[tuple[str, int], PolicyProfile]:
    """Load every ``*.toml`` in ``directory`` except ``regions.toml``.

    A file must be named ``<profile_id>.toml`` or ``<profile_id>.v<version>.toml``;
    two files with the same ``(profile_id, version)`` are refused.
    """
    profiles: dict[tuple[str, int], PolicyProfile] = {}
    origin: dict[tuple[str, int], Path] = {}
    for path in toml_files([directory]):
        if path.name == REGIONS_FILE:
            continue
        profile = load_profile_file(path)
        allowed = {profile.profile_id, f"{profile.profile_id}.v{profile.version}"}
        if path.stem not in allowed:
            names = " or ".join(sorted(f"{stem}.toml" for stem in allowed))
            raise PolicyFileError(path, [("profile_id", f"file must be named {names}")])
        if profile.key in origin:
            reason = f"{profile.profile_id} version {profile.version} is already defined by {origin[profile.key]}"
            raise PolicyFileError(path, [("version", reason)])
        profiles[profile.key] = profile
        origin[profile.key] = path
    return profiles


def load_regions(path: Path, profiles: Mapping[tuple[str, int], PolicyProfile]) -> dict[str, tuple[RegionEntry, ...]]:
    """Load ``regions.toml``; every assignment must name a loaded profile version."""
    regions_file = parse_model(RegionsFile, path, read_toml(path))
    by_region: dict[str, list[RegionEntry]] = {}
    for index, assignment in enumerate(regions_file.assignment):
        key = (assignment.profile_id, assignment.version)
        if key not in profiles:
            reason = f"no profile {key[0]!r} version {key[1]} in {path.parent}"
            raise PolicyFileError(path, [(f"assignment.{index}.profile_id", reason)])
        _check_go_live(path, index, assignment, profiles[key])
        for code, name in assignment.regions.items():
            entries = by_region.setdefault(code, [])
            if any(entry.effective_from == assignment.effective_from for entry in entries):
                reason = f"region {code} has two assignments from {assignment.effective_from}"
                raise PolicyFileError(path, [(f"assignment.{index}.regions.{code}", reason)])
            entries.append(
                RegionEntry(
                    code, name, *key, assignment.effective_from, volume_completion_from=assignment.volume_completion_from,
                    non_winning_cap_from=assignment.non_winning_cap_from, manufacturer_report_from=assignment.manufacturer_report_from,
                    source=assignment.source,
                )
            )
    return {code: _inherit_go_live(sorted(entries, key=lambda entry: entry.effective_from)) for code, entries in sorted(by_region.items())}


GO_LIVE_RULES = {
    "volume_completion_from": "volume_completion",
    "non_winning_cap_from": "non_winning_cap",
    "manufacturer_report_from": "manufacturer_report",
}
"""Go-live field of an assignment → the profile section of the rule it switches on."""


def _check_go_live(path: Path, index: int, assignment: RegionAssignment, profile: PolicyProfile) -> None:
    """A go-live date needs the rule in the profile, and is not before the assignment takes effect."""
    for go_live, rule in GO_LIVE_RULES.items():
        day: date | None = getattr(assignment, go_live)
        if day is None:
            continue
        if getattr(profile, rule) is None:
            reason = f"profile {profile.profile_id} version {profile.version} has no [{rule}] section to go live with"
            raise PolicyFileError(path, [(f"assignment.{index}.{go_live}", reason)])
        if day < assignment.effective_from:
            reason = f"{day} is before the assignment's effective_from {assignment.effective_from}"
            raise PolicyFileError(path, [(f"assignment.{index}.{go_live}", reason)])


def _inherit_go_live(entries: list[RegionEntry]) -> tuple[RegionEntry, ...]:
    """An entry without a go-live date keeps the region's earlier one: a new profile version does not switch a rule off."""
    kept: list[RegionEntry] = []
    for entry in entries:
        before = kept[-1] if kept else None

        def go_live(name: str, entry: RegionEntry = entry, before: RegionEntry | None = before) -> date | None:
            own: date | None = getattr(entry, name)
            return own or (getattr(before, name) if before else None)

        kept.append(
            replace(
                entry, volume_completion_from=go_live("volume_completion_from"), non_winning_cap_from=go_live("non_winning_cap_from"),
                manufacturer_report_from=go_live("manufacturer_report_from"),
            )
        )
    return tuple(kept)
