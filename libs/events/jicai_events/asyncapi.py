"""The AsyncAPI 3.0 document of every Kafka topic, generated from the topic registry and the event catalog.

One channel per topic, one message per event type its owning service
publishes there, and one ``send`` operation per publishing service. A
message's payload is the CloudEvents envelope (``schemas/envelope.json``)
whose ``data`` is the event's checked-in JSON Schema, referenced by file so
there is one description of each event; its Kafka key is the event's
partition key. Checked in as ``libs/events/asyncapi.json``; a test fails when
it is stale. Regenerate with ``python -m jicai_events.asyncapi`` (part of
``make schemas``).
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import jicai_events.catalog  # noqa: F401  (registers every event)
from jicai_events.base import IntegrationEvent, event_registry
from jicai_events.envelope import CONTENT_TYPE
from jicai_events.schemas import ENVELOPE_FILE, SCHEMA_DIR, file_name
from jicai_events.topics import ALL_TOPICS, DEAD_LETTERS, NAMESPACE_ENV, Topic, topic_for

ASYNCAPI_PATH = Path(__file__).resolve().parents[1] / "asyncapi.json"
# Pydantic's schemas use only keywords draft-07 reads the same way (no $ref siblings; $defs are reached
# by JSON pointer), and draft-07 is the JSON Schema every AsyncAPI tool must support.
SCHEMA_FORMAT = "application/schema+json;version=draft-07"
KAFKA_BINDING = "0.5.0"

DESCRIPTION = f"""\
Integration events of Jicai (集采): facts one service tells the others, as CloudEvents 1.0 in
structured mode (`{CONTENT_TYPE}`), one per Kafka message, keyed by the event's partition key so
that one institution's (or product's, manufacturer's …) events stay in order.

Each service publishes only to its own topic. Topic names carry the deployment's namespace
prefix (`{NAMESPACE_ENV}`, empty by default).

Rolling deploys: readers tolerate, writers refuse. A writer emits exactly what these schemas
describe (`additionalProperties: false`); a reader ignores event fields and CloudEvents extension
attributes (e.g. `traceparent`) it does not know, so an optional field may be added before every
consumer is redeployed. Removing or narrowing a field, or adding a required one, is a new
schema version (a new `type` ending in `.v<N+1>`) with an upcaster from the old one."""


def _channel_id(topic: Topic) -> str:
    return topic.name.removeprefix("jicai.").split(".")[0].replace("-", "_")


def _operation_id(topic: Topic) -> str:
    return f"publish_{_channel_id(topic)}"


def _schema_ref(name: str) -> dict[str, str]:
    return {"$ref": (SCHEMA_DIR / name).relative_to(ASYNCAPI_PATH.parent).as_posix()}


def _key_schema(model: type[IntegrationEvent]) -> dict[str, Any]:
    """The Kafka key, found by asking ``partition_key`` of an event whose every field holds its own name."""
    names: dict[str, Any] = {field: f"<{field}>" for field in model.model_fields}
    try:
        key = model.model_construct(**names).partition_key()
    except Exception:  # noqa: BLE001 - a key computed from a field's value (not its name) is described, not shown
        return {"type": "string", "description": f"computed by {model.__name__}.partition_key() (also the envelope's partitionkey)"}
    if key.startswith("<") and key.endswith(">") and key[1:-1] in model.model_fields:
        field = key[1:-1]
        data_schema = model.model_json_schema(mode="serialization")["properties"][field]
        return {"type": "string", "description": f"the event's `{field}` (data.{field}, also the envelope's partitionkey)",
                **{k: v for k, v in data_schema.items() if k in ("minLength", "maxLength", "pattern")}}
    if "<" not in key:
        return {"type": "string", "const": key, "description": "the same key for every event of this type: one partition, total order"}
    return {"type": "string", "description": f"derived from the event's fields as `{key}` (also the envelope's partitionkey)"}


def _message(model: type[IntegrationEvent]) -> dict[str, Any]:
    doc = inspect.getdoc(model) or model.event_name
    envelope_constants = {
        "type": {"const": model.type_name()},
        "source": {"const": f"/jicai/{model.source_service}"},
        "dataschema": {"const": f"urn:jicai:schema:{model.event_name}:v{model.schema_version}"},
        "data": _schema_ref(file_name(model)),
    }
    return {
        "name": model.event_name,
        "title": f"{model.event_name} v{model.schema_version}",
        "summary": doc.splitlines()[0],
        "contentType": CONTENT_TYPE,
        "correlationId": {"description": "continues across the events one command caused", "location": "$message.payload#/correlationid"},
        "payload": {
            "schemaFormat": SCHEMA_FORMAT,
            "schema": {"allOf": [_schema_ref(ENVELOPE_FILE), {"properties": envelope_constants, "required": ["type", "data"]}]},
        },
        "bindings": {"kafka": {"key": _key_schema(model), "bindingVersion": KAFKA_BINDING}},
    }


def _dead_letter_message() -> dict[str, Any]:
    header = {"type": "string"}
    return {
        "name": "DeadLetter",
        "title": "An event a consumer could not handle",
        "summary": "The original message, byte for byte and with its key, plus headers saying where it came from and why it failed.",
        "headers": {
            "type": "object",
            "required": ["x-dead-letter-reason", "x-original-topic", "x-original-partition", "x-original-offset", "x-consumer"],
            "properties": {
                "x-dead-letter-reason": header | {"description": "why the consumer could not handle it (at most 2000 characters)"},
                "x-original-topic": header,
                "x-original-partition": header,
                "x-original-offset": header,
                "x-consumer": header | {"description": "the consumer group that gave up"},
            },
        },
        "payload": {"description": "the original message value, unchanged (possibly not an envelope at all)"},
        "bindings": {"kafka": {"key": {"type": "string", "description": "the original message's key"}, "bindingVersion": KAFKA_BINDING}},
    }


def build() -> dict[str, Any]:
    """The AsyncAPI document as plain data."""
    by_topic: dict[str, list[type[IntegrationEvent]]] = {}
    for model in event_registry.models():
        by_topic.setdefault(topic_for(model).name, []).append(model)
    messages: dict[str, Any] = {m.type_name(): _message(m) for m in event_registry.models()}
    messages["DeadLetter"] = _dead_letter_message()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for topic in ALL_TOPICS:
        models = by_topic.get(topic.name, [])
        names = [m.type_name() for m in models] if topic is not DEAD_LETTERS else ["DeadLetter"]
        channel_id = _channel_id(topic)
        channels[channel_id] = {
            "address": topic.name,
            "title": topic.name,
            "description": topic.description,
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
            "bindings": {"kafka": {"topic": topic.name, "partitions": topic.partitions, "bindingVersion": KAFKA_BINDING}},
        }
        publisher = "every consumer" if topic is DEAD_LETTERS else ", ".join(sorted({m.source_service for m in models}))
        operations[_operation_id(topic)] = {
            "action": "send",
            "title": f"{publisher} publishes to {topic.name}",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{n}"} for n in names],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Jicai (集采) integration events", "version": "1.0.0", "description": DESCRIPTION},
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "{bootstrap}",
                "protocol": "kafka",
                "description": "the deployment's Kafka cluster (KAFKA_BOOTSTRAP_SERVERS)",
                "variables": {"bootstrap": {"default": "127.0.0.1:9092"}},
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def write(path: Path = ASYNCAPI_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(write())
