"""A test's in-process client of an app, on the event loop the service runs on in production."""
from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from starlette.types import ASGIApp

SERVICE_LOOP: dict[str, Any] = {"use_uvloop": True}
"""``jicai-serve`` runs each app on uvicorn's default loop, uvloop (``uvicorn[standard]``, a dependency of the kit): the
tests' apps run on it too, not on asyncio's own loop, whose selector bookkeeping of each PostgreSQL wait (psycopg's
async connection adds and removes a reader per query) cost the in-process tests about a seventh of their CPU."""


def app_client(app: ASGIApp, **options: Any) -> TestClient:
    """``TestClient(app, **options)`` on the service's loop (``SERVICE_LOOP``)."""
    return TestClient(app, backend_options=SERVICE_LOOP, **options)
