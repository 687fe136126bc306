"""The base of every integration event and the registry that names them.

Each event has a stable type name and a schema version. Renaming a Python
class never changes the wire; a breaking change adds version N+1 and an
upcaster from N, so events written years ago stay readable.

Readers tolerate, writers refuse: constructing an event in code is strict
(``extra="forbid"``, a misspelt field is a bug), but reading one from the wire
(``EventRegistry.parse``) ignores fields this version does not know, so a
producer deployed before its consumers can add an optional field without the
older consumers dead-lettering every message (rolling deploys).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

TYPE_PREFIX = "cn.jicai"
READER_EXTRA: Literal["ignore"] = "ignore"
"""What a reader does with fields it does not know, at every level of an event or envelope read from the wire."""


class IntegrationEvent(BaseModel):
    """An immutable fact one service tells the others (past tense)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_name: ClassVar[str]
    """Stable name, e.g. ``InvoiceReceived``."""
    schema_version: ClassVar[int] = 1
    source_service: ClassVar[str]
    """The service that owns the fact; its topic carries the event."""

    @classmethod
    def type_name(cls) -> str:
        """CloudEvents ``type``: ``cn.jicai.<service>.<Name>.v<version>``."""
        return f"{TYPE_PREFIX}.{cls.source_service}.{cls.event_name}.v{cls.schema_version}"

    def partition_key(self) -> str:
        """Kafka message key: the institution, so its events stay in order."""
        value: object = self.__dict__["institution_id"]  # events without one override this method
        return str(value)

    def subject(self) -> str:
        """CloudEvents ``subject``: the record the event is about."""
        return self.partition_key()


E = TypeVar("E", bound=type[IntegrationEvent])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventRegistry:
    """Type name → model, plus upcasters for retired schema versions."""

    def __init__(self) -> None:
        self._models: dict[str, type[IntegrationEvent]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}

    def register(self, model: E) -> E:
        name = model.type_name()
        if name in self._models and self._models[name] is not model:
            raise ValueError(f"event type {name} registered twice")
        self._models[name] = model
        return model

    def register_upcaster(self, old_type: str, new_type: str, upcast: Upcaster) -> None:
        """Read events of ``old_type`` as ``new_type`` by transforming their data."""
        self._upcasters[old_type] = (new_type, upcast)

    def models(self) -> list[type[IntegrationEvent]]:
        return sorted(self._models.values(), key=lambda m: m.type_name())

    def model_for(self, type_name: str) -> type[IntegrationEvent] | None:
        return self._models.get(type_name)

    def parse(self, type_name: str, data: dict[str, Any]) -> IntegrationEvent:
        """Read ``data`` as the newest version reachable from ``type_name``.

        Fields this version does not know are ignored (a newer producer's
        additions); missing or invalid fields still fail.
        """
        while type_name in self._upcasters:
            type_name, upcast = self._upcasters[type_name]
            data = upcast(data)
        model = self._models.get(type_name)
        if model is None:
            raise UnknownEventType(type_name)
        return model.model_validate(data, extra=READER_EXTRA)


class UnknownEventType(LookupError):
    def __init__(self, type_name: str) -> None:
        super().__init__(f"unknown event type {type_name!r}")
        self.type_name = type_name


event_registry = EventRegistry()


def integration_event(model: E) -> E:
    """Class decorator: register an event model under its stable type name."""
    return event_registry.register(model)
