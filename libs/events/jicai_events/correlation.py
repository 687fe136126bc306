"""The correlation id of the work in hand: one fact followed across services.

An HTTP request binds its request id (``jicai_kit.logs``); the events its unit of work records carry it as
their envelope's ``correlationid``; a consumer binds the ``correlationid`` of the envelope it handles, and the
events its handler records continue it. Every log line names the one bound (``correlation_id``).
"""
from __future__ import annotations

from contextvars import ContextVar, Token

_current: ContextVar[str | None] = ContextVar("jicai_correlation_id", default=None)


def current() -> str | None:
    return _current.get()


def bind(correlation_id: str | None) -> Token[str | None]:
    """Bind ``correlation_id`` in this task until ``unbind`` (contextvars: concurrent tasks never see each other's)."""
    return _current.set(correlation_id)


def unbind(token: Token[str | None]) -> None:
    _current.reset(token)
