"""Fixtures of the settlement service tests: the module's app on its migrated PostgreSQL database (empty for each test), and callers."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from jicai_settlement.entrypoints.app import build_app
from jicai_settlement.settings import Settings
from tests.support.shared_apps import SharedApp, SharedApps

Auth = Callable[[str, Role], dict[str, str]]


@pytest.fixture
def settlement(shared_apps: SharedApps) -> SharedApp:
    """The module's settlement app, on empty tables."""
    return shared_apps.fresh("settlement", lambda url: build_app(Settings(database_url=url, run_workers=False)))


@pytest.fixture
def db_url(settlement: SharedApp) -> str:
    return settlement.url


@pytest.fixture
def client(settlement: SharedApp) -> TestClient:
    return settlement.client


@pytest.fixture
def h1(token: Auth) -> dict[str, str]:
    return token("H1", Role.INSTITUTION)


@pytest.fixture
def fund(token: Auth) -> dict[str, str]:
    return token("FUND-520100", Role.FUND)
