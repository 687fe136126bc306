"""The orders service tests' app: one for the session on its migrated PostgreSQL database, empty for each test."""
from __future__ import annotations

import pytest

from tests.support.shared_apps import DefaultApps, SharedApp


@pytest.fixture
def orders(default_apps: DefaultApps) -> SharedApp:
    """The orders app every module shares (tests/support/shared_apps.py), on empty tables."""
    return default_apps.default("orders")
