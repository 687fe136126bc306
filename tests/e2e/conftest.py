"""End-to-end tests: whole systems of separate processes on real Kafka and PostgreSQL.

A system several modules share is a package-scoped fixture of their package (``clean_run/``, ``year_run/``, ``small_flows/``):
started once, and stopped as soon as its last test is done, not left running idle to the end of the session."""
from __future__ import annotations

from typing import Any

VOLATILE = {"caused_by", "causation_id", "correlation_id", "time"}


def stable(value: Any) -> Any:
    """Drop what legitimately differs between two runs: event ids and wall-clock timestamps."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE and not k.endswith(("_at", "event_id"))}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value
