"""Domain events, the facts a service keeps in its own event store, and the codec that names and versions them.

Pure: this module imports nothing but pydantic, so a service's domain layer stays free of I/O libraries
(``tests/unit/events/test_domain_events.py`` checks that importing every service's domain pulls in no
SQLAlchemy, psycopg, aiokafka or FastAPI).

**Versions and upcasting**, as the ``eventsourcing`` library does with ``class_version``: each domain event
class has a ``class_version`` (1 unless raised). A stored event carries the version of the class that wrote it
(``_class_version`` in its data, absent for version 1, so every event stored before versions existed reads as
version 1). A class at version N defines static methods ``upcast_v1_v2`` … ``upcast_v{N-1}_v{N}``, each turning
the stored data of one version into the next; the codec applies them in order when it reads, so events written
by any earlier release stay readable without rewriting the store. The stored name never changes. A change
that only adds a field with a default needs no new version; a change that makes a field required, renames or
re-types one does.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

import pydantic_core
from pydantic import BaseModel, ConfigDict

VERSION_KEY = "_class_version"
"""Where a stored event's data records the class version that wrote it (omitted for version 1)."""

Upcast = Callable[[dict[str, Any]], dict[str, Any]]


class DomainEvent(BaseModel):
    """An event internal to one service, stored in its event store."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: ClassVar[str]
    class_version: ClassVar[int] = 1
    """Raise it (and add ``upcast_v{N-1}_v{N}``) when stored data of the previous version no longer validates."""


D = TypeVar("D", bound=DomainEvent)


class StoredByNewerRelease(ValueError):
    """A stored event's version is higher than this release's class: a newer release wrote it."""


class EventCodec(Generic[D]):
    """Maps a service's domain events to and from event-store rows (name, data), upcasting older versions."""

    def __init__(self, *models: type[D]) -> None:
        self._by_name = {m.name: m for m in models}
        if len(self._by_name) != len(models):
            raise ValueError("duplicate domain event name")
        self._upcasts = {m.name: _upcast_chain(m) for m in models}

    @property
    def models(self) -> tuple[type[D], ...]:
        """Every domain event kind the codec records."""
        return tuple(self._by_name.values())

    def encode(self, event: D) -> tuple[str, dict[str, Any]]:
        data = event.model_dump(mode="json")
        if event.class_version > 1:
            data[VERSION_KEY] = event.class_version
        return event.name, data

    def encode_json(self, event: D) -> tuple[str, str]:
        """``encode`` with the data as JSON text, dumped by pydantic straight from the event (no dict in between)."""
        if event.class_version > 1:
            name, data = self.encode(event)
            return name, pydantic_core.to_json(data).decode()
        return event.name, event.model_dump_json()

    def decode(self, name: str, data: dict[str, Any]) -> D:
        model = self._by_name[name]
        if model.class_version > 1 or VERSION_KEY in data:
            data = self._upcast(model, data.get(VERSION_KEY, 1), data)
        return model.model_validate(data)

    def decode_json(self, name: str, text: str | bytes) -> D:
        """``decode`` of the stored JSON text: pydantic parses it straight into the event (no dict in between),
        unless the event has upcasts to run on its stored form."""
        model = self._by_name[name]
        if model.class_version > 1 or VERSION_KEY in (text if isinstance(text, str) else text.decode()):
            return self.decode(name, json.loads(text))
        return model.model_validate_json(text)

    def _upcast(self, model: type[D], stored_version: int, data: dict[str, Any]) -> dict[str, Any]:
        if stored_version > model.class_version:
            raise StoredByNewerRelease(
                f"{model.name} stored at version {stored_version}; this release reads up to {model.class_version}"
            )
        data = {k: v for k, v in data.items() if k != VERSION_KEY}
        for upcast in self._upcasts[model.name][stored_version - 1 :]:
            data = upcast(data)
        return data


def _upcast_chain(model: type[DomainEvent]) -> list[Upcast]:
    """``upcast_v1_v2`` … of ``model``, in order; a missing step is a programming error, raised at import."""
    chain: list[Upcast] = []
    for version in range(1, model.class_version):
        step = getattr(model, f"upcast_v{version}_v{version + 1}", None)
        if step is None:
            raise TypeError(f"{model.__name__} is at class_version {model.class_version} but has no upcast_v{version}_v{version + 1}")
        chain.append(step)
    return chain
