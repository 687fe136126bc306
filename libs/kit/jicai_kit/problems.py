"""RFC 9457 problem details for every error a service returns.

Bad input is rejected whole with the field and the reason; nothing is
changed. A 500 is only ever our fault, never the caller's input. A database
that cannot be reached answers 503 with ``Retry-After``; when the connection
drops while committing, the answer says the outcome is unknown: every write is
idempotent by its business id, so repeating the same request is safe and tells
whether it was recorded (200 ``created: false``) or not (201).
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa
from starlette.exceptions import HTTPException as StarletteHTTPException

from jicai_kit import logs

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


RETRY_AFTER_SECONDS = 5
"""What a 503 asks the caller to wait: long enough for a database restart or failover to be noticed by the pool."""


def invalid(field: str, reason: str, *, status: int = 422) -> Problem:
    """The one way to reject a field the schema could not check (e.g. unknown contract)."""
    return invalid_fields([(field, reason)], status=status)


def invalid_fields(errors: list[tuple[str, str]], *, status: int = 422) -> Problem:
    """Reject several fields at once, each with its reason."""
    detail = "; ".join(f"{field}: {reason}" for field, reason in errors)
    return Problem(status, "invalid-field", "Invalid request", detail, errors=[{"field": f, "reason": r} for f, r in errors])


def not_found(what: str, ident: str) -> Problem:
    return Problem(404, "not-found", f"{what} not found", f"no {what} {ident!r}")


def forbidden(reason: str) -> Problem:
    return Problem(403, "forbidden", "Forbidden", reason)


def conflict(reason: str, **extensions: Any) -> Problem:
    """Final: the id is recorded with other content (or the record's state forbids the change); repeating will not help."""
    return Problem(409, "conflict", "Conflict", reason, **extensions)


def busy(reason: str) -> Problem:
    """Transient: another request is changing the same record right now; the same request may be repeated after ``Retry-After``."""
    return Problem(409, "concurrent-change", "Changed by another request", reason, headers={"Retry-After": "1"})


def database_unavailable() -> Problem:
    return Problem(
        503, "database-unavailable", "Database unavailable",
        "the service's database cannot be reached; nothing was recorded. Retry the same request after Retry-After seconds",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def outcome_unknown() -> Problem:
    return Problem(
        503, "commit-outcome-unknown", "Outcome unknown",
        "the connection to the database was lost while committing, so it is not known whether the write was recorded. "
        "Retrying the same request is safe: it answers 200 with created: false if it was recorded, 201 if it records it now",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def database_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database is away (connection refused or lost, pool exhausted), not that a statement was wrong."""
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.OperationalError | sa.InterfaceError | sa.TimeoutError | ConnectionError)


def out_of_range(exc: BaseException) -> bool:
    """PostgreSQL refused a value computed from valid input as out of its column's range (SQLSTATE 22003)."""
    return isinstance(exc, sa.DataError) and getattr(exc.orig, "sqlstate", None) == "22003"


def too_large(limit: int) -> Problem:
    return Problem(413, "request-too-large", "Request body too large", f"the request body exceeds {limit} bytes; send fewer lines per request")


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
        return respond(request, exc)

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

    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        if out_of_range(exc):  # the statement failed, so its transaction was rolled back: nothing was written
            reason = "a quantity or amount computed from it (e.g. quantity × unit price) exceeds what can be stored"
            return respond(request, invalid("body", reason))
        if database_unreachable(exc):
            log.warning("database unreachable on %s: %s", request.url.path, exc)
            return respond(request, database_unavailable())
        # Starlette answers this one outside every middleware, after RequestId has unbound the request's id:
        # bind it again for the log line and name it in the answer, so a caller's report leads to the line.
        request_id = logs.request_id_of(request.scope)
        with logs.request_bound(request_id):
            log.exception("unhandled error on %s", request.url.path)
        # Not "nothing was changed": the failure may come after a commit. Idempotent writes make a retry the way to know.
        detail = "the error was logged. A write may or may not have been recorded: repeating the same request is safe and tells which"
        problem = Problem(500, "internal-error", "Internal server error", detail)
        response = respond(request, problem)
        if request_id is not None and logs.HEADER not in response.headers:
            response.headers[logs.HEADER] = request_id
        return response

    # Database errors get their own handler (not only the catch-all, which Starlette re-raises after answering).
    app.add_exception_handler(sa.SQLAlchemyError, _unexpected)
    app.add_exception_handler(ConnectionError, _unexpected)
    app.add_exception_handler(Exception, _unexpected)


def respond(request: Request, problem: Problem) -> JSONResponse:
    return JSONResponse(problem.body(request.url.path), status_code=problem.status, media_type=MEDIA_TYPE, headers=problem.headers)


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": desc, "content": {MEDIA_TYPE: {}}}
    for code, desc in [
        (401, "Missing or invalid bearer token"), (403, "Not your record"), (413, "Request body too large"),
        (422, "Invalid input: field and reason"), (503, "Database unreachable or commit outcome unknown; see Retry-After"),
    ]
}
