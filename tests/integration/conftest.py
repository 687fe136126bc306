"""Fixtures of the plumbing tests: a database with a test's own tables, a Kafka namespace of its own."""
from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from jicai_events.topics import NAMESPACE_ENV
from tests.support import infra
from tests.support.namespaces import delete_namespace_topics


@pytest.fixture
async def engine(pg_base_url: str, request: pytest.FixtureRequest) -> AsyncIterator[AsyncEngine]:
    """A fresh database holding the test module's ``metadata`` tables."""
    metadata: MetaData = request.module.metadata
    url = infra.create_database(pg_base_url, "test_plumbing")
    eng = create_async_engine(url)
    async with eng.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield eng
    await eng.dispose()
    infra.drop_database(url)


@pytest.fixture
def namespace(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[str]:
    """Topics and consumer groups of this test only; its topics are deleted after it."""
    ns = f"plumbing-{uuid.uuid4().hex[:8]}."
    monkeypatch.setenv(NAMESPACE_ENV, ns)
    yield ns
    if "kafka_bootstrap" in request.fixturenames:
        asyncio.run(delete_namespace_topics(request.getfixturevalue("kafka_bootstrap"), ns))
