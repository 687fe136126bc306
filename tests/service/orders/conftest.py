"""The orders service tests' app: one per module on its migrated PostgreSQL database, empty for each test."""
from __future__ import annotations

import pytest

from jicai_orders.entrypoints.app import build_app
from jicai_orders.settings import Settings
from tests.support.shared_apps import SharedApp, SharedApps


@pytest.fixture
def orders(shared_apps: SharedApps) -> SharedApp:
    """The module's orders app, on empty tables."""
    return shared_apps.fresh("orders", lambda url: build_app(Settings(database_url=url, run_workers=False)))
