"""The four services' public REST APIs, called as the signed-in party.

Every call carries a short-lived token minted for the signed-in user (``jicai_kit.auth.issue_token``, the
function ``jicai-token`` uses; this module's ``mint`` is the one place that calls it), never a shared
operator token: the services enforce who may read and do what, and record the user as the actor.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx

from jicai_console.domain.accounts import API_ROLE, StaffUser
from jicai_console.settings import SERVICES, Settings
from jicai_kit.auth import issue_token
from jicai_kit.keys import SigningKey

T = TypeVar("T")

CONNECTIONS_PER_SERVICE = 4
"""Calls in flight to one service at once (the rest of a page's calls wait for one of them). A service is one
process: more connections serve a page no sooner, and httpcore checks every pooled connection of a client each time
a call starts or ends (a readability poll of each idle one), so the overview's ~27 concurrent calls on one pool of
~27 connections spent a quarter of the console's CPU on those checks."""


class ApiError(Exception):
    """A service refused or failed: its status and RFC 9457 problem (or what it said)."""

    def __init__(self, service: str, status: int, problem: dict[str, Any]) -> None:
        self.service, self.status, self.problem = service, status, problem
        super().__init__(f"{service} answered {status}: {problem.get('detail') or problem.get('title') or problem}")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def mint(key: SigningKey, settings: Settings, user: StaffUser) -> str:
    """A token naming the signed-in party for the four services, valid for ``api_token_seconds`` (5 minutes)."""
    return issue_token(key, user.api_party, API_ROLE[user.role], SERVICES, timedelta(seconds=settings.api_token_seconds))


class Platform:
    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._key = settings.signing_key()  # read once: a console whose key is missing fails at start, not on a page
        limits = httpx.Limits(max_connections=CONNECTIONS_PER_SERVICE, max_keepalive_connections=CONNECTIONS_PER_SERVICE)
        tls = httpx.create_ssl_context()  # one for the four clients: loading the CA bundle is the dear part of a client
        self._clients = {service: httpx.AsyncClient(timeout=settings.api_timeout_seconds, transport=transport, limits=limits, verify=tls)
                         for service in settings.service_urls}
        """A pool per service: a page's calls to one service check only that service's connections."""
        self._routes: dict[str, set[tuple[str, str]]] = {}

    async def close(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self._clients.values()))

    def as_user(self, user: StaffUser) -> Caller:
        return Caller(self, user, mint(self._key, self.settings, user))

    async def offering(self, method: str, route: str) -> str | None:
        """The service whose OpenAPI document offers ``method route`` (contracts first), or None; read once per service."""
        missing = [s for s in self.settings.service_urls if s not in self._routes]
        documents = await asyncio.gather(*(self.public(s, "/openapi.json") for s in missing), return_exceptions=True)
        for service, document in zip(missing, documents, strict=True):
            if isinstance(document, dict):  # an unreachable service is asked again next time
                self._routes[service] = {(m.upper(), path) for path, item in document.get("paths", {}).items() for m in item}
        return next((s for s in self.settings.service_urls if (method, route) in self._routes.get(s, set())), None)

    async def public(self, service: str, path: str) -> Any:
        """An endpoint without authentication (``/clock``, ``/openapi.json``)."""
        return _body(service, await self.read(self.settings.service_urls[service] + path, service))

    async def read(self, url: str, service: str, **kwargs: Any) -> httpx.Response:
        """A GET, tried twice: a pooled keep-alive connection the service has just closed fails the first read
        (``ReadError``), and a read is safe to repeat. A service still unreachable is a 503 of that service."""
        client = self._clients[service]
        try:
            return await client.get(url, **kwargs)
        except httpx.TransportError:
            pass
        try:
            return await client.get(url, **kwargs)
        except httpx.TransportError as exc:
            raise ApiError(service, 503, {"title": "service unreachable", "detail": f"{type(exc).__name__}: {exc}"}) from exc


class Caller:
    """The platform as one signed-in user sees it (one token for the page being served)."""

    def __init__(self, platform: Platform, user: StaffUser, token: str) -> None:
        self.platform, self.user = platform, user
        self._headers = {"Authorization": f"Bearer {token}"}

    async def get(self, service: str, path: str, **params: Any) -> Any:
        url = self.platform.settings.service_urls[service] + path
        query = {k: v for k, v in params.items() if v is not None}
        return _body(service, await self.platform.read(url, service, params=query, headers=self._headers))

    async def get_or(self, default: Any, service: str, path: str, **params: Any) -> Any:
        """The answer, or ``default`` when the service has no such record (404) or does not apply to it (422)."""
        try:
            return await self.get(service, path, **params)
        except ApiError as exc:
            if exc.status in (404, 422):
                return default
            raise

    async def send(self, method: str, service: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        """A write: the answer whatever its status (the caller shows a refusal and records it in the audit)."""
        url = self.platform.settings.service_urls[service] + path
        try:
            response = await self.platform._clients[service].request(method, url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            return Answer(503, {"title": "service unreachable", "detail": str(exc)})
        try:
            payload = response.json()
        except ValueError:
            payload = {"detail": response.text}
        return Answer(response.status_code, payload)

    async def gather(self, *calls: Awaitable[T]) -> list[T]:
        return list(await asyncio.gather(*calls))


def _body(service: str, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"detail": response.text}
        raise ApiError(service, response.status_code, problem if isinstance(problem, dict) else {"detail": problem})
    return response.json()
