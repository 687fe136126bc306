"""Request ids and correlation ids in log lines (jicai_kit.logs), on a bare ASGI app: pure logic, no I/O."""
from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from jicai_events import correlation
from jicai_kit import logs, problems
from tests.support.in_process_client import InProcessClient

log = logging.getLogger("jicai.test.logs")


async def endpoint(request: Request) -> JSONResponse:
    log.info("recorded a fact")
    return JSONResponse({"correlation_id": correlation.current()})


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    out = io.StringIO()
    handler = logs.handler("orders", "json", out)
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield out
    log.removeHandler(handler)


def client() -> TestClient:
    return InProcessClient(logs.RequestId(Starlette(routes=[Route("/facts", endpoint, methods=["POST"])])))


def test_the_caller_s_request_id_is_echoed_bound_as_correlation_id_and_logged(lines: io.StringIO) -> None:
    response = client().post("/facts", headers={"X-Request-Id": "his-push-20261101-0001"})

    assert response.headers["X-Request-Id"] == "his-push-20261101-0001"
    assert response.json() == {"correlation_id": "his-push-20261101-0001"}
    line = json.loads(lines.getvalue().splitlines()[-1])
    assert (line["message"], line["level"], line["service"], line["request_id"], line["correlation_id"]) == (
        "recorded a fact", "INFO", "orders", "his-push-20261101-0001", "his-push-20261101-0001",
    )
    assert correlation.current() is None  # nothing leaks past the request


@pytest.mark.parametrize("given", [None, "", "x" * 129, "a b", "id\u00e9"])
def test_a_missing_or_unusable_request_id_is_replaced_by_a_new_one(given: str | None, lines: io.StringIO) -> None:
    headers = {"X-Request-Id": given.encode("utf-8")} if given is not None else {}
    first = client().post("/facts", headers=headers)
    second = client().post("/facts", headers=headers)

    made = first.headers["X-Request-Id"]
    assert made not in (given, "") and made != second.headers["X-Request-Id"]
    assert first.json() == {"correlation_id": made}


def test_text_lines_name_the_ids_for_grep() -> None:
    out = io.StringIO()
    handler = logs.handler("alerts", "text", out)
    token = correlation.bind("req-7")
    try:
        handler.handle(log.makeRecord(log.name, logging.INFO, __file__, 1, "consumer %s: handled", ("alerts.rules",), None))
    finally:
        correlation.unbind(token)
    assert "service=alerts request_id=None correlation_id=req-7 consumer alerts.rules: handled" in out.getvalue()


def test_an_unexpected_error_answers_500_naming_the_request_id_and_its_log_line_too(lines: io.StringIO) -> None:
    """Starlette answers an unhandled exception outside every middleware: the 500 and its log line must still carry
    the id the caller sent, so a support ticket quoting it leads to the traceback."""
    app = FastAPI()
    problems.install(app)

    @app.post("/facts")
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.add_middleware(logs.RequestId)
    problems_log = logging.getLogger(problems.__name__)
    handler = logs.handler("orders", "json", lines)
    problems_log.addHandler(handler)
    try:
        response = InProcessClient(app, raise_server_exceptions=False).post("/facts", headers={"X-Request-Id": "his-push-0042"})
    finally:
        problems_log.removeHandler(handler)

    assert response.status_code == 500 and response.headers["content-type"] == problems.MEDIA_TYPE
    assert response.headers.get_list("X-Request-Id") == ["his-push-0042"]
    logged = [json.loads(line) for line in lines.getvalue().splitlines()]
    assert [(line["message"], line["request_id"]) for line in logged] == [("unhandled error on /facts", "his-push-0042")]


def test_a_handled_problem_carries_the_request_id_once(lines: io.StringIO) -> None:
    app = FastAPI()
    problems.install(app)

    @app.post("/facts")
    async def refused() -> None:
        raise problems.invalid("lines[0].quantity", "must be positive")

    app.add_middleware(logs.RequestId)
    response = InProcessClient(app).post("/facts", headers={"X-Request-Id": "his-push-0043"})
    assert response.status_code == 422 and response.headers.get_list("X-Request-Id") == ["his-push-0043"]
