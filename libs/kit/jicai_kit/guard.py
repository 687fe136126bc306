"""What every request must pass before any endpoint runs: a bounded body, and text that can be stored.

A pure ASGI middleware, so one rule covers all four services: a body larger
than ``JICAI_MAX_REQUEST_BYTES`` is refused with 413 before it is read whole
(a 9.6 MB payment once held settlement's event loop for 27 s); a control
character or lone surrogate in the path, a query parameter or any string (or
key) of a JSON body is refused with 422 naming where it is (PostgreSQL cannot
store a NUL byte in text, which used to answer 500 and drop the connection).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jicai_kit.problems import Problem, invalid_fields, respond, too_large
from jicai_kit.validity import text_refusal


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string of a parsed JSON document with its field path (``lines[0].reason``); keys count as strings."""
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            yield inner, key
            yield from _strings(item, inner)


_MAY_HOLD_REFUSED = re.compile(rb"\\[bfu]|[\x00\x7f]|\xc2[\x80-\x9f]|\xed[\xa0-\xbf]")
"""Bytes without which no string of a parsed JSON body holds a refused character: the escapes ``\\b``, ``\\f``
and ``\\uXXXX``, DEL, C1 controls and surrogates as UTF-8, and NUL (every UTF-16/32 body has one; raw
C0 controls are not valid JSON inside strings). A body without them skips the parse and walk (a 1,000-line push)."""
_LEADS = (b"\\", b"\x00", b"\x7f", b"\xc2", b"\xed")
"""The first bytes of those: ``in`` finds them 1,000 times faster than the regular expression (no literal prefix)."""


def body_refusals(body: bytes) -> list[tuple[str, str]]:
    """Control characters in a JSON body, by field; an unparsable body is left to the endpoint's own validation."""
    if not any(marker in body for marker in _LEADS) or _MAY_HOLD_REFUSED.search(body) is None:
        return []
    try:
        document = json.loads(body)
    except ValueError:
        return []
    return [(field, reason) for field, text in _strings(document, "") if (reason := text_refusal(text)) is not None]


def request_line_refusals(path: str, query_string: bytes) -> list[tuple[str, str]]:
    refusals = [("path", reason)] if (reason := text_refusal(path)) is not None else []
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if (reason := text_refusal(name) or text_refusal(value)) is not None:
            refusals.append((f"query.{name}", reason))
    return refusals


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusals = request_line_refusals(scope.get("path", ""), scope.get("query_string", b""))
        if refusals:
            await self._refuse(scope, send, invalid_fields(refusals))
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._refuse(scope, send, too_large(self.max_body_bytes))
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:  # a chunked body without Content-Length
                await self._refuse(scope, send, too_large(self.max_body_bytes))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refusals = body_refusals(body)
        if refusals:
            await self._refuse(scope, send, invalid_fields(refusals))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, problem: Problem) -> None:
        response = respond(Request(scope), problem)
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
