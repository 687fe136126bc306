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
from jicai_kit.auth import Role, TokenVerifier
from jicai_kit.keys import ALGORITHM
from tests.support.tokens import PUBLIC_KEYS, SIGNING_KEY, SIGNING_KEY_FILE

HOSPITAL = StaffUser("h001", StaffRole.INSTITUTION, "H001 user", party_id="H001")


def _read(failures: int) -> tuple[object, list[str]]:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if len(seen) <= failures:
            raise httpx.ReadError("connection closed by the peer")
        return httpx.Response(200, json={"ok": True})

    async def run() -> object:
        platform = Platform(Settings(database_url="unused", signing_key_file=SIGNING_KEY_FILE), transport=httpx.MockTransport(answer))
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


def test_the_token_names_the_signed_in_party_for_the_four_services_and_expires_within_minutes() -> None:
    _, seen = _read(failures=0)
    token = seen[0].removeprefix("Bearer ")
    for service in ("contracts", "orders", "settlement", "alerts"):
        principal = TokenVerifier(service, PUBLIC_KEYS).verify(token)
        assert (principal.party_id, principal.role) == ("H001", Role.INSTITUTION)
    claims = jwt.decode(token, SIGNING_KEY.private_key.public_key(), algorithms=[ALGORITHM], audience="alerts")
    assert jwt.get_unverified_header(token)["kid"] == SIGNING_KEY.kid
    assert 0 < claims["exp"] - claims["iat"] <= 300


def test_a_console_without_a_signing_key_does_not_start() -> None:
    with pytest.raises(ValueError, match="JICAI_CONSOLE_SIGNING_KEY_FILE"):
        Platform(Settings(database_url="unused"))
