"""Wires the console: settings from the environment (``jicai-console serve`` migrates with them, then serves)."""
from __future__ import annotations

from jicai_console.settings import Settings


def load_settings() -> Settings:
    return Settings()  # pydantic-settings fills the fields from the environment
