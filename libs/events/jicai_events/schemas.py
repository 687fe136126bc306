"""JSON Schema per integration event, generated from the models.

The generated files are checked in under ``jicai_events/schemas/`` so other
platforms can read them; a test fails when they are stale. Regenerate with
``python -m jicai_events.schemas``.
"""
from __future__ import annotations

import json
from pathlib import Path

import jicai_events.catalog  # noqa: F401  (registers every event)
from jicai_events.base import event_registry

SCHEMA_DIR = Path(__file__).parent / "schemas"


def render_all() -> dict[str, str]:
    """File name → JSON Schema text for every registered event."""
    out: dict[str, str] = {}
    for model in event_registry.models():
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:jicai:schema:{model.event_name}:v{model.schema_version}"
        schema["x-cloudevents-type"] = model.type_name()
        out[f"{model.type_name()}.json"] = json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return out


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        stale.unlink()
    written = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all():
        print(p)
