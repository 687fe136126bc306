"""The published AsyncAPI 3.0 document: current, valid against the official AsyncAPI 3.0.0 JSON Schema,
every reference resolving, every event on its topic, and what writers emit matching its payload schemas."""
from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from jicai_events import Envelope
from jicai_events.asyncapi import ASYNCAPI_PATH, render
from jicai_events.base import event_registry
from jicai_events.catalog import DayClosed, InvoiceLine, InvoiceReceived
from jicai_events.schemas import SCHEMA_DIR
from jicai_events.topics import ALL_TOPICS, topic_for

SPEC = Path(__file__).parent / "asyncapi_spec" / "asyncapi-3.0.0.json"


@cache
def _document() -> dict[str, Any]:
    return dict(json.loads(ASYNCAPI_PATH.read_text(encoding="utf-8")))


def _spec_validator() -> Draft7Validator:
    return Draft7Validator(json.loads(SPEC.read_text(encoding="utf-8")))


def test_checked_in_asyncapi_document_is_current() -> None:
    """Regenerate with ``make schemas`` (``python -m jicai_events.asyncapi``) when this fails."""
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == render()


def test_the_document_is_valid_asyncapi_3() -> None:
    errors = sorted(_spec_validator().iter_errors(_document()), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]


def test_the_validator_refuses_a_broken_document() -> None:
    broken = copy.deepcopy(_document())
    broken["operations"]["publish_orders"]["action"] = "publish"  # AsyncAPI 2's word; 3.0 knows send and receive
    del broken["info"]["version"]
    assert len(list(_spec_validator().iter_errors(broken))) >= 2


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_reference_resolves() -> None:
    doc = _document()
    refs = set(_refs(doc))
    assert refs
    for ref in refs:
        if ref.startswith("#/"):
            node: Any = doc
            for part in ref[2:].split("/"):
                node = node[part]
        else:
            assert (ASYNCAPI_PATH.parent / ref).is_file(), ref


def test_every_topic_is_a_channel_carrying_the_events_its_service_publishes() -> None:
    channels = {c["address"]: c for c in _document()["channels"].values()}
    assert set(channels) == {t.name for t in ALL_TOPICS}
    for topic in ALL_TOPICS:
        assert channels[topic.name]["bindings"]["kafka"]["partitions"] == topic.partitions
    for model in event_registry.models():
        assert model.type_name() in channels[topic_for(model).name]["messages"], model.type_name()
    keys = _document()["components"]["messages"]
    assert keys[InvoiceReceived.type_name()]["bindings"]["kafka"]["key"]["description"].startswith("the event's `institution_id`")
    assert keys[DayClosed.type_name()]["bindings"]["kafka"]["key"]["const"] == "clock"


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node] + [n for v in node.values() for n in _nodes(v)]
    return [n for v in node for n in _nodes(v)] if isinstance(node, list) else []


def test_the_event_schemas_read_the_same_as_the_draft_07_the_document_declares() -> None:
    """Pydantic writes draft 2020-12; the document says draft-07 (what every AsyncAPI tool reads). That holds while
    the schemas are valid draft-07 and no ``$ref`` has siblings (2020-12 applies them, draft-07 ignores them)."""
    for path in SCHEMA_DIR.glob("*.json"):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft7Validator.check_schema(schema)
        assert all(set(n) == {"$ref"} for n in _nodes(schema) if isinstance(n.get("$ref"), str)), path.name


def _payload_validator(type_name: str) -> Draft7Validator:
    """The message's payload schema, its file references read from the checked-in JSON Schemas."""
    def retrieve(uri: str) -> Resource[Any]:
        return Resource.from_contents(json.loads(Path(uri.removeprefix("file://")).read_text(encoding="utf-8")), DRAFT7)

    schema = _document()["components"]["messages"][type_name]["payload"]["schema"]
    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return Draft7Validator({"$id": ASYNCAPI_PATH.as_uri(), **schema}, registry=registry)


def _invoice_on_the_wire() -> dict[str, Any]:
    event = InvoiceReceived(
        invoice_id="INV-1", invoice_number="52001234", institution_id="H001", pooling_region_code="520100",
        distributor_id="D001", issued_on=date(2026, 3, 1), received_on=date(2026, 3, 2), amount=Decimal("10.00"),
        lines=(InvoiceLine(acceptance_id="H001:L1", contract_id="C1", quantity=1, unit_price=Decimal("10.0000"),
                           amount=Decimal("10.00"), accepted_on=date(2026, 2, 27)),),
        latest_acceptance_on=date(2026, 2, 27),
    )
    wire: dict[str, Any] = json.loads(Envelope.wrap(event, time=datetime(2026, 3, 2, tzinfo=UTC)).to_bytes())
    return wire


def test_what_a_writer_emits_matches_the_message_payload_schema() -> None:
    _payload_validator(InvoiceReceived.type_name()).validate(_invoice_on_the_wire())


@pytest.mark.parametrize("change", ["extension", "data_field", "nested_field", "other_type", "missing"])
def test_the_payload_schema_refuses_what_a_writer_must_not_emit(change: str) -> None:
    wire = _invoice_on_the_wire()
    if change == "extension":
        wire["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    elif change == "data_field":
        wire["data"]["payer_reference"] = "PR-7"
    elif change == "nested_field":
        wire["data"]["lines"][0]["batch_note"] = "cold chain"
    elif change == "other_type":
        wire["type"] = DayClosed.type_name()
    else:
        del wire["data"]["amount"]
    with pytest.raises(ValidationError):
        _payload_validator(InvoiceReceived.type_name()).validate(wire)
