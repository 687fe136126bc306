"""A decision's "why" (``GET /decisions/{id}``) as a readable chain: causes → rule and parameters → decision."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    heading: str  # a catalog key
    lines: list[tuple[str, str]]  # (label, value)


def _flat(prefix: str, value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in _flat(f"{prefix}.{k}" if prefix else str(k), v)]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [pair for i, v in enumerate(value) for pair in _flat(f"{prefix}[{i}]", v)]
    if isinstance(value, list):
        return [(prefix, ", ".join(str(v) for v in value))]
    return [(prefix, "" if value is None else str(value))]


def chain(decision: dict[str, Any]) -> list[Step]:
    """Read in order: what happened (the causing events), which notice and profile version applied with which
    parameters and calendar, what was evaluated (R3/R4), and what was decided, effective when."""
    published = decision.get("decision", {})
    causes = published.get("caused_by") or decision.get("caused_by") or []
    profile = decision.get("profile", {})
    steps = [
        Step("events", [(str(c), "") for c in causes] if causes else [(decision.get("event", {}).get("type", ""), decision["event"]["id"])]),
        Step("profile", [("profile_id", str(profile.get("profile_id", ""))), ("version", str(profile.get("version", ""))),
                         ("title", str(profile.get("title", ""))), ("notice", str(profile.get("source", "")))]),
        Step("parameters", _flat("", decision.get("parameters", {}))),
    ]
    if decision.get("calendar"):
        steps.append(Step("calendar_source", [(str(y), str(s)) for y, s in decision["calendar"].items()]))
    if decision.get("evaluation"):
        steps.append(Step("evaluation", _flat("", decision["evaluation"])))
    steps.append(Step("decision", [("kind", str(decision.get("kind", ""))), ("effective_on", str(decision.get("effective_on", "")))]
                      + [pair for pair in _flat("", published) if not pair[0].startswith("caused_by")]))
    return steps
