"""Fixtures of the settlement service tests: the app on its own migrated PostgreSQL database, and callers."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from jicai_settlement.entrypoints.app import build_app
from jicai_settlement.settings import Settings

Auth = Callable[[str, Role], dict[str, str]]


@pytest.fixture
def db_url(service_database: Callable[[str], str]) -> str:
    return service_database("settlement")


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(build_app(Settings(database_url=db_url, run_workers=False))) as c:
        yield c


@pytest.fixture
def h1(token: Auth) -> dict[str, str]:
    return token("H1", Role.INSTITUTION)


@pytest.fixture
def fund(token: Auth) -> dict[str, str]:
    return token("FUND-520100", Role.FUND)
