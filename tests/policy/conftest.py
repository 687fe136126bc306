"""Policy tests run against the packaged profiles unless a test points elsewhere."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_policy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ignore JICAI_POLICY_DIR / JICAI_CALENDAR_DIR of the machine running the tests."""
    monkeypatch.delenv("JICAI_POLICY_DIR", raising=False)
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
