"""RFC 9457 problem details for every error a service returns.

Bad input is rejected whole with the field and the reason; nothing is
changed. A 500 is only ever our fault, never the caller's input.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "urn:jicai:problem:"


class Problem(Exception):
    """An error the caller can act on, returned as problem+json."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.errors = errors or []
        self.headers = headers
        self.extensions = extensions

    def body(self, instance: str) -> dict[str, Any]:
        out: dict[str, Any] = {"type": TYPE_BASE + self.kind, "title": self.title, "status": self.status, "instance": instance}
        if self.detail:
            out["detail"] = self.detail
        if self.errors:
            out["errors"] = self.errors
        out.update(self.extensions)
        return out


def invalid(field: str, reason: str, *, status: int = 422) -> Problem:
    """The one way to reject a field the schema could not check (e.g. unknown contract)."""
    return Problem(status, "invalid-field", "Invalid request", f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, "not-found", f"{what} not found", f"no {what} {ident!r}")


def forbidden(reason: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", reason)


def conflict(reason: str, **extensions: Any) -> Problem:
    return Problem(409, "conflict", "Conflict", reason, **extensions)


def field_path(loc: tuple[Any, ...]) -> str:
    """('body', 'lines', 0, 'quantity') → 'lines[0].quantity'."""
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return JSONResponse(exc.body(request.url.path), status_code=exc.status, media_type=MEDIA_TYPE, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": field_path(tuple(e["loc"])), "reason": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        problem = Problem(422, "validation-error", "Request validation failed", detail, errors=errors)
        return JSONResponse(problem.body(request.url.path), status_code=422, media_type=MEDIA_TYPE)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = Problem(exc.status_code, "http-error", str(exc.detail), None)
        return JSONResponse(problem.body(request.url.path), status_code=exc.status_code, media_type=MEDIA_TYPE, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        problem = Problem(500, "internal-error", "Internal server error", "the error was logged; nothing was changed")
        return JSONResponse(problem.body(request.url.path), status_code=500, media_type=MEDIA_TYPE)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, "content": {MEDIA_TYPE: {}}}
    for code, desc in [(401, "Missing or invalid bearer token"), (403, "Not your record"), (422, "Invalid input: field and reason")]
}
