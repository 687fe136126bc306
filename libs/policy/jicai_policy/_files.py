"""Reading TOML policy files and turning validation failures into clear errors."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from jicai_policy.errors import PolicyFileError

WHOLE_FILE = "<file>"

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    """Read one TOML file; unreadable or malformed files raise ``PolicyFileError``."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise PolicyFileError(path, [(WHOLE_FILE, f"cannot read: {exc.strerror or exc}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyFileError(path, [(WHOLE_FILE, f"not valid TOML: {exc}")]) from exc


def parse_model(model: type[M], path: Path, data: dict[str, Any]) -> M:
    """Validate ``data`` read from ``path`` as ``model``; failures name field and reason."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [(_field_name(err["loc"]), _reason(err)) for err in exc.errors()]
        raise PolicyFileError(path, problems) from exc


def toml_files(paths: Iterable[Path | str]) -> list[Path]:
    """Expand directories into their ``*.toml`` files (sorted); keep files as given."""
    found: list[Path] = []
    for entry in map(Path, paths):
        if entry.is_dir():
            found.extend(sorted(entry.glob("*.toml")))
        else:
            found.append(entry)
    return found


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(part) for part in loc if not _is_internal(part)]
    return ".".join(parts) if parts else WHOLE_FILE


def _is_internal(part: int | str) -> bool:
    # Union and tagged-union branches show up in ``loc`` as type names.
    return isinstance(part, str) and (part.startswith("function-") or "[" in part)


def _reason(err: Any) -> str:
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if err["type"] in {"extra_forbidden", "missing"}:
        return message
    given = err.get("input")
    if isinstance(given, (str, int, float)) and not isinstance(given, bool):
        return f"{message} (got {given!r})"
    return message
