"""Reading and validating profile files and the region mapping (``regions.toml``).

Directory layout (the packaged ``jicai_policy/profiles/`` or ``JICAI_POLICY_DIR``):

* ``<profile_id>.toml`` or ``<profile_id>.v<version>.toml``: one profile version each;
* ``regions.toml``: ``[[assignment]]`` tables mapping pooling-region codes
  (统筹区, 6-digit administrative division codes, 行政区划代码) to a profile
  version from an ``effective_from`` date on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from jicai_policy._files import parse_model, read_toml, toml_files
from jicai_policy.errors import PolicyFileError
from jicai_policy.profiles import PolicyProfile

PACKAGED_PROFILE_DIR = Path(__file__).parent / "profiles"
REGIONS_FILE = "regions.toml"

RegionCode = Annotated[str, Field(pattern=r"^[1-9]\d{5}$")]


class RegionAssignment(BaseModel):
    """Regions that follow one profile version from ``effective_from`` on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    profile_id: str
    version: int = Field(ge=1)
    effective_from: date
    source: str = Field(min_length=1)
    regions: dict[RegionCode, Annotated[str, Field(min_length=1)]] = Field(min_length=1)


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
        for code, name in assignment.regions.items():
            entries = by_region.setdefault(code, [])
            if any(entry.effective_from == assignment.effective_from for entry in entries):
                reason = f"region {code} has two assignments from {assignment.effective_from}"
                raise PolicyFileError(path, [(f"assignment.{index}.regions.{code}", reason)])
            entries.append(RegionEntry(code, name, *key, assignment.effective_from))
    return {code: tuple(sorted(entries, key=lambda entry: entry.effective_from)) for code, entries in sorted(by_region.items())}
