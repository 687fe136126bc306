"""Fixtures of the settlement service tests: the module's app on its migrated PostgreSQL database (empty for each test), and callers."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from tests.support.shared_apps import DefaultApps, SharedApp

Auth = Callable[[str, Role], dict[str, str]]


@pytest.fixture
def settlement(default_apps: DefaultApps) -> SharedApp:
    """The settlement app every module shares (tests/support/shared_apps.py), on empty tables."""
    return default_apps.default("settlement")


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
