"""Wires the contracts service: settings → runtime (no consumers: it only publishes)."""
from __future__ import annotations

from jicai_contracts.adapters.tables import event_tables
from jicai_contracts.settings import Settings
from jicai_kit.runtime import ServiceRuntime
from jicai_kit.settings import ServiceSettings


def make_runtime(settings: ServiceSettings) -> ServiceRuntime:
    return ServiceRuntime(settings=settings, tables=event_tables, consumers=())


def load_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
