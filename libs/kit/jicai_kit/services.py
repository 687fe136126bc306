"""The deployable services, found through their packages' entry points (group ``jicai.services``).

The kit names none of them: a service's distribution registers itself in its
``pyproject.toml``::

    [project.entry-points."jicai.services"]
    contracts = "jicai_contracts:SERVICE"

with ``SERVICE = Service(name="contracts", package=__name__, local_port=8001)``
in the package's ``__init__``. Whatever is installed is what ``jicai-serve``,
``jicai-dead-letters`` and the dev stack know. A registered package keeps this
layout: ``<package>/migrations`` (its Alembic history, shipped as package
data), ``<package>.bootstrap.load_settings()`` (settings with a
``database_url``) and the ASGI app at ``<package>.entrypoints.app:app``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

ENTRY_POINT_GROUP = "jicai.services"


@dataclass(frozen=True)
class Service:
    name: str
    package: str
    #: Where the service listens in a local run (``make up``); ports are the one thing a service cannot derive.
    local_port: int

    @property
    def app(self) -> str:
        """The ASGI app, as uvicorn imports it."""
        return f"{self.package}.entrypoints.app:app"

    def load_app(self) -> Any:
        """The ASGI app object (importing it builds the app; it starts nothing)."""
        module, attribute = self.app.split(":")
        return getattr(importlib.import_module(module), attribute)

    def bootstrap(self) -> ModuleType:
        return importlib.import_module(f"{self.package}.bootstrap")


class UnknownService(LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"unknown service {name!r}; installed: {', '.join(registered()) or 'none'}")


@cache
def registered() -> dict[str, Service]:
    """Every installed service by name, in the order of their local ports (the order a local run starts them)."""
    found: list[Service] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        service = point.load()
        if not isinstance(service, Service) or service.name != point.name:
            raise TypeError(f"entry point {point.name} = {point.value} ({ENTRY_POINT_GROUP}) must name a Service called {point.name!r}")
        found.append(service)
    return {s.name: s for s in sorted(found, key=lambda s: s.local_port)}


def service(name: str) -> Service:
    try:
        return registered()[name]
    except KeyError:
        raise UnknownService(name) from None
