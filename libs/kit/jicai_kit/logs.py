"""Structured logs: one JSON object a line (or plain text locally), each naming the request and correlation ids.

The standard ``logging`` module with python-json-logger's formatter, not structlog: every existing
``logging.getLogger(__name__)`` call and the libraries' own loggers (uvicorn's access log, aiokafka, SQLAlchemy)
come out in the same shape without changing a call site or learning a second logging API.

``RequestId`` is pure ASGI (no ``BaseHTTPMiddleware``: no extra task or body copy per request): it takes the
caller's ``X-Request-Id`` (or makes one), echoes it in the response and binds it as the correlation id, so the
events the request records carry it (``jicai_events.correlation``) and the services handling them log it too.
"""
from __future__ import annotations

import itertools
import logging
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal, TextIO

from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jicai_events import correlation

HEADER = "X-Request-Id"
_HEADER_KEY = HEADER.lower().encode()
_ALLOWED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:/+=-"
_MAX_LENGTH = 128
"""A caller's request id is kept when it is 1–128 of these bytes (it goes into every log line and event), else replaced."""

_PROCESS = uuid.uuid4().hex[:16]
_SEQUENCE = itertools.count(1)
"""New request ids: this process's random prefix and a counter (unique across processes; no system call per request)."""


def _new_process() -> None:
    global _PROCESS, _SEQUENCE
    _PROCESS = uuid.uuid4().hex[:16]
    _SEQUENCE = itertools.count(1)


# A process forked from one that imported this module (the tests' pre-imported launcher) is another process.
os.register_at_fork(after_in_child=_new_process)

_request_id: ContextVar[str | None] = ContextVar("jicai_request_id", default=None)
_SCOPE_KEY = "jicai.request_id"
"""Where ``RequestId`` leaves the id in the ASGI scope: Starlette answers an unhandled exception outside every
middleware, after ``RequestId`` has unbound it, and the 500 must still name it (``request_id_of``)."""

LogFormat = Literal["json", "text"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s service=%(service)s request_id=%(request_id)s correlation_id=%(correlation_id)s %(message)s"


class _Context(logging.Filter):
    """Adds the service, the request id and the correlation id in hand to every record."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = _request_id.get()
        record.correlation_id = correlation.current()
        return True


_HANDLER_NAME = "jicai"


def handler(service: str, log_format: LogFormat = "json", stream: TextIO = sys.stderr) -> logging.Handler:
    """A handler writing ``log_format`` lines that name the service, request id and correlation id."""
    out = logging.StreamHandler(stream)
    out.set_name(_HANDLER_NAME)
    out.addFilter(_Context(service))
    if log_format == "json":
        out.setFormatter(JsonFormatter(
            "%(levelname)s %(name)s %(message)s %(service)s %(request_id)s %(correlation_id)s",
            rename_fields={"levelname": "level", "name": "logger"}, timestamp="time",  # ISO 8601, UTC
        ))
    else:
        out.setFormatter(logging.Formatter(TEXT_FORMAT))
    return out


def configure(service: str, log_format: LogFormat = "json", level: str = "INFO", handled_events: bool = True) -> None:
    """Log to stderr in ``log_format``, once per process; uvicorn's loggers go the same way (they keep no handler
    of their own). Handlers others installed on the root logger (pytest's) stay."""
    root = logging.getLogger()
    if any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        return
    root.addHandler(handler(service, log_format))
    root.setLevel(level)
    logging.getLogger("jicai_events.handled").setLevel(logging.NOTSET if handled_events else logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


class RequestId:
    """Binds the request id (the caller's ``X-Request-Id``, or a new one) for the request and echoes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == _HEADER_KEY:
                if 0 < len(value) <= _MAX_LENGTH and not value.translate(None, _ALLOWED):
                    request_id = value.decode()
                break
        if request_id is None:
            request_id = f"{_PROCESS}-{next(_SEQUENCE)}"
        encoded = request_id.encode()
        scope[_SCOPE_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == _HEADER_KEY for name, _ in headers):  # the catch-all 500 names it itself
                    headers.append((_HEADER_KEY, encoded))
                message["headers"] = headers
            await send(message)

        request_token, correlation_token = _request_id.set(request_id), correlation.bind(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation.unbind(correlation_token)
            _request_id.reset(request_token)


def request_id_of(scope: Scope) -> str | None:
    """The request id ``RequestId`` gave this request (None for a request it did not see)."""
    value = scope.get(_SCOPE_KEY)
    return value if isinstance(value, str) else None


@contextmanager
def request_bound(request_id: str | None) -> Iterator[None]:
    """Log lines within name ``request_id`` (for code running after ``RequestId`` has unbound it)."""
    token = _request_id.set(request_id)
    try:
        yield
    finally:
        _request_id.reset(token)
