"""The published contracts against their accepted baseline: ``python -m jicai_devstack.contracts check|accept``.

The contracts are the JSON Schemas of the integration events and of the
CloudEvents envelope (``jicai_events.schemas``) and each service's OpenAPI
document (FastAPI's ``app.openapi()``). ``contracts/baseline/`` holds the
accepted copy of each. ``check`` lists every breaking change
(``jicai_devstack.compat``) and exits 1 if there is one; additive changes pass.
``accept`` (``make contracts``) rewrites the baseline, so an intentional break
shows in the diff a reviewer reads.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from jicai_devstack.compat import event_breaks, openapi_breaks
from jicai_kit.services import registered

BASELINE = Path(__file__).resolve().parents[3] / "contracts" / "baseline"
Contracts = dict[str, dict[str, Any]]
"""Kind (``events``, ``openapi``) → file name → document."""


def current() -> Contracts:
    """The contracts as the code defines them now."""
    from jicai_events.schemas import render_all

    events = {name: json.loads(text) for name, text in render_all().items()}
    openapi = {f"{name}.json": service.load_app().openapi() for name, service in registered().items()}
    return {"events": events, "openapi": openapi}


def load(directory: Path = BASELINE) -> Contracts:
    return {kind: {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted((directory / kind).glob("*.json"))}
            for kind in ("events", "openapi")}


def breaking_changes(baseline: Contracts, now: Contracts) -> list[str]:
    """Every change from ``baseline`` to ``now`` that breaks a reader of an event or a client of an endpoint."""
    out: list[str] = []
    for name, old in baseline["events"].items():
        new = now["events"].get(name)
        where = "envelope" if old.get("$id", "").endswith(":Envelope:v1") else f"event {name.removesuffix('.json')} data"
        out += [f"{where}: removed"] if new is None else event_breaks(old, new, where)
    for name, old in baseline["openapi"].items():
        new = now["openapi"].get(name)
        where = f"{name.removesuffix('.json')} API"
        out += [f"{where}: removed"] if new is None else openapi_breaks(old, new, where)
    return out


def accept(now: Contracts, directory: Path = BASELINE) -> None:
    """Make ``now`` the baseline (files of contracts that no longer exist are removed)."""
    for kind, documents in now.items():
        folder = directory / kind
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.json"):
            stale.unlink()
        for name, doc in documents.items():
            (folder / name).write_text(json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv == ["accept"]:
        accept(current())
        print(f"accepted the current contracts as the baseline in {BASELINE}; review and commit its diff")
        return 0
    if argv == ["check"]:
        breaks = breaking_changes(load(), current())
        for line in breaks:
            print(line)
        print(f"{len(breaks)} breaking change(s) against {BASELINE}" + ("; if intended: make contracts" if breaks else ""))
        return 1 if breaks else 0
    print("usage: python -m jicai_devstack.contracts check|accept", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
