"""JSON Schema per integration event and of the CloudEvents envelope, generated from the models.

The generated files are checked in under ``jicai_events/schemas/`` so other
platforms can read them; a test fails when they are stale. Regenerate with
``python -m jicai_events.schemas`` (``make schemas``). They describe what
writers emit (``additionalProperties: false``); readers ignore what they do
not know (see ``jicai_events.base``).
"""
from __future__ import annotations

import json
from pathlib import Path

import jicai_events.catalog  # noqa: F401  (registers every event)
from jicai_events.base import IntegrationEvent, event_registry
from jicai_events.envelope import Envelope

SCHEMA_DIR = Path(__file__).parent / "schemas"
ENVELOPE_FILE = "envelope.json"


def file_name(model: type[IntegrationEvent]) -> str:
    return f"{model.type_name()}.json"


def _text(schema: dict[str, object]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def render_all() -> dict[str, str]:
    """File name → JSON Schema text for every registered event, and the envelope."""
    envelope = Envelope.model_json_schema(mode="serialization") | {"$id": "urn:jicai:schema:Envelope:v1"}
    out: dict[str, str] = {ENVELOPE_FILE: _text(envelope)}
    for model in event_registry.models():
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"urn:jicai:schema:{model.event_name}:v{model.schema_version}"
        schema["x-cloudevents-type"] = model.type_name()
        out[file_name(model)] = _text(schema)
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
