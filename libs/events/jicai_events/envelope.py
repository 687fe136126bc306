"""CloudEvents 1.0 structured-mode JSON envelope for every Kafka message.

Hand-written rather than the ``cloudevents`` SDK: we need a strict, typed
model with our two extension attributes (correlationid, causationid) and the
``partitionkey`` extension, validated by pydantic like every other contract;
the SDK's envelope is untyped. The wire format is the standard one.

Readers tolerate, writers refuse: ``wrap`` and the constructor refuse an
attribute the model does not know; ``from_bytes`` ignores extension attributes
it does not know (e.g. the Distributed Tracing extension's ``traceparent`` and
``tracestate``), as CloudEvents consumers must, so a producer that starts
sending one does not make the consumers not yet redeployed dead-letter it.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from jicai_events.base import READER_EXTRA, IntegrationEvent, event_registry

CONTENT_TYPE = "application/cloudevents+json"


class Envelope(BaseModel):
    """A CloudEvents 1.0 event carrying one integration event as ``data``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1)
    source: str = Field(min_length=1, description="/jicai/<service>")
    type: str = Field(min_length=1)
    subject: str | None = None
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    correlationid: str = Field(min_length=1)
    causationid: str | None = None
    partitionkey: str = Field(min_length=1)
    data: dict[str, Any]

    @classmethod
    def wrap(
        cls,
        event: IntegrationEvent,
        *,
        time: datetime,
        event_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Envelope:
        """Wrap ``event``; a fresh event starts its own correlation."""
        eid = event_id or str(uuid.uuid4())
        return cls(
            id=eid,
            source=f"/jicai/{event.source_service}",
            type=event.type_name(),
            subject=event.subject(),
            time=time,
            dataschema=f"urn:jicai:schema:{event.event_name}:v{event.schema_version}",
            correlationid=correlation_id or eid,
            causationid=causation_id,
            partitionkey=event.partition_key(),
            data=event.model_dump(mode="json"),
        )

    def event(self) -> IntegrationEvent:
        """The typed event inside (upcast to the newest schema version; fields it does not know ignored)."""
        return event_registry.parse(self.type, self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Read an envelope from the wire, ignoring extension attributes this reader does not know. Parsed by pydantic
        straight from the JSON text (half the time of ``json.loads`` and validating the dict: every consumed record)."""
        return cls.model_validate_json(raw, extra=READER_EXTRA)
