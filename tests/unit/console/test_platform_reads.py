"""The console's reads of the services: a stale keep-alive connection is retried once, an unreachable service is
that service's 503 (the page says which), and every call carries a short-lived token of the signed-in party."""
from __future__ import annotations

import asyncio

import httpx
import jwt
import pytest

from jicai_console.adapters.platform import ApiError, Platform
from jicai_console.domain.accounts import StaffRole, StaffUser
from jicai_console.settings import Settings

SECRET = "unit-test-secret-of-at-least-32-characters"
HOSPITAL = StaffUser("h001", StaffRole.INSTITUTION, "H001 user", party_id="H001")


def _read(failures: int) -> tuple[object, list[str]]:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if len(seen) <= failures:
            raise httpx.ReadError("connection closed by the peer")
        return httpx.Response(200, json={"ok": True})

    async def run() -> object:
        platform = Platform(Settings(database_url="unused", auth_secret=SECRET), transport=httpx.MockTransport(answer))
        try:
            return await platform.as_user(HOSPITAL).get("alerts", "/institutions/H001/alerts")
        finally:
            await platform.close()

    return asyncio.run(run()), seen


def test_a_read_on_a_connection_the_service_just_closed_is_tried_once_more() -> None:
    body, seen = _read(failures=1)
    assert body == {"ok": True} and len(seen) == 2


def test_a_service_still_unreachable_is_its_503() -> None:
    with pytest.raises(ApiError) as refused:
        _read(failures=2)
    assert (refused.value.service, refused.value.status) == ("alerts", 503)


def test_the_token_names_the_signed_in_party_and_expires_within_minutes() -> None:
    _, seen = _read(failures=0)
    claims = jwt.decode(seen[0].removeprefix("Bearer "), SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"]) == ("H001", "institution")
    assert 0 < claims["exp"] - claims["iat"] <= 300
