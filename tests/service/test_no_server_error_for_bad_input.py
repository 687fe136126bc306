"""Property test: no input, however malformed, makes any write endpoint answer 5xx.

For every POST endpoint of the contracts, orders and settlement services (the
paths come from each service's own OpenAPI document), Hypothesis posts JSON
built from the endpoint's real field names with hostile values (wrong types,
huge numbers, NaN-like strings, nesting, nulls, unicode) and plain garbage.
Every answer must be a 2xx or a 4xx problem+json naming what is wrong.

``test_no_write_endpoint_answers_5xx_to_any_json`` is the bounded run of every
CI build. ``test_fuzz_*`` (marked ``fuzz``, deselected by default; run with
``pytest -m fuzz tests/service/test_no_server_error_for_bad_input.py``) is the
longer job: see its docstring.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jicai_kit.auth import Role
from tests.support.in_process_client import InProcessClient
from tests.support.shared_apps import DefaultApps

SERVICES = ("contracts", "orders", "settlement")
# Each write as the party allowed to make it, so requests get past authentication into validation.
CALLERS = {
    "/institutions": ("OPS", Role.OPERATOR), "/manufacturers": ("OPS", Role.OPERATOR), "/distributors": ("OPS", Role.OPERATOR),
    "/winning-products": ("OPS", Role.OPERATOR), "/contracts": ("OPS", Role.OPERATOR),
    "/institutions/{institution_id}/acceptances:batch": ("H001", Role.INSTITUTION), "/invoices": ("D001", Role.DISTRIBUTOR),
    "/payments": ("H001", Role.INSTITUTION), "/monthly-settlements": ("FUND", Role.FUND),
    "/institutions/{institution_id}/purchases:batch": ("H001", Role.INSTITUTION), "/filing-purchases": ("H001", Role.INSTITUTION),
    "/orders": ("H001", Role.INSTITUTION), "/orders/{order_id}/cancel": ("H001", Role.INSTITUTION),
    "/orders/{order_id}/confirm": ("D001", Role.DISTRIBUTOR), "/orders/{order_id}/ship": ("D001", Role.DISTRIBUTOR),
    "/acceptances/{acceptance_id}/returns": ("H001", Role.INSTITUTION),
    "/invoices/{invoice_id}/credit-notes": ("D001", Role.DISTRIBUTOR), "/invoices/{invoice_id}/void": ("D001", Role.DISTRIBUTOR),
    "/manufacturer-reports": ("M001", Role.MANUFACTURER),
    "/direct-settlements": ("FUND", Role.FUND), "/prepayment-disbursements": ("FUND", Role.FUND), "/prepayment-liquidations": ("FUND", Role.FUND),
}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["NaN", "Infinity", "-1", "1e400", "2026-02-30", "2026-13-01", "0.001", "１２３", "H001", "", " ", "\u0000"]),
)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def _app(service: str, url: str) -> FastAPI:
    module = __import__(f"jicai_{service}.entrypoints.app", fromlist=["build_app"])
    settings_cls = __import__(f"jicai_{service}.settings", fromlist=["Settings"]).Settings
    return module.build_app(settings_cls(database_url=url, run_workers=False))  # type: ignore[no-any-return]


def _fields(schema: dict[str, Any], path: str) -> list[str]:
    ref = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return list(body.get("properties", {}))


@pytest.fixture(scope="module", params=SERVICES)
def service(request: pytest.FixtureRequest, default_apps: DefaultApps) -> tuple[TestClient, dict[str, Any]]:
    """The service's default app on empty tables (the examples' writes stay for the next ones, as on a live service)."""
    client = default_apps.default(request.param).client
    return client, client.get("/openapi.json").json()


def _bodies(fields: list[str]) -> st.SearchStrategy[Any]:
    """JSON bodies for an endpoint taking ``fields``: its fields with hostile values (and one it does not know), some
    of them in any number, or any JSON at all."""
    return st.one_of(
        st.fixed_dictionaries({f: json_values for f in fields}, optional={"unexpected": json_values}),
        st.dictionaries(st.sampled_from(fields or ["x"]), json_values, max_size=len(fields) + 1),
        json_values,
    )


def test_no_write_endpoint_answers_5xx_to_any_json(service: tuple[TestClient, dict[str, Any]], token: Callable[[str, Role], dict[str, str]]) -> None:
    client, schema = service
    posts = [p for p, ops in schema["paths"].items() if "requestBody" in ops.get("post", {})]  # writes that take JSON
    assert posts, "the service documents its write endpoints"

    # Each path's bodies, built once: a strategy built anew for every example was validated anew (an eighth of the test's CPU).
    paths, bodies = st.sampled_from(posts), {path: _bodies(_fields(schema, path)) for path in posts}

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        path = data.draw(paths)
        body = data.draw(bodies[path])
        party, role = CALLERS.get(path, ("OPS", Role.OPERATOR))  # operators may make every other write
        concrete = re.sub(r"\{[a-z_]+\}", "H001", path)
        response = client.post(concrete, json=body, headers=token(party, role))
        assert response.status_code < 500, (path, body, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (path, response.headers)
            problem = response.json()
            assert problem["status"] == response.status_code and (problem.get("errors") or problem.get("detail"))

    check()


# ---- the longer, marked job ---------------------------------------------------------------------------------------

FUZZ_EXAMPLES = int(os.environ.get("JICAI_FUZZ_EXAMPLES", "300"))
dates = st.dates().map(date.isoformat) | st.sampled_from(["2020-04-13", "2020-04-14", "2026-03-02", "2026-11-30", "2026-12-01"])
decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4).map(str) | st.sampled_from(
    ["99999999999999.99", "100000000000000.00", "9999999999.9999", "0.00", "0.01", "1E+2", "１２.００", "-0.01", "12.345"])
KNOWN_IDS = ["H001", "D001", "M001", "C001", "C001-y1", "P001", "INV-001", "H001:RK-1", "O-001", "OPS", "FUND", "NOBODY"]
"""Ids the seeded databases know (``_seed``), so sampled writes reach the use cases, not only "not found"."""
ids = st.sampled_from(KNOWN_IDS) | st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9._:-]{0,70}", fullmatch=True)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _shaped(schema: dict[str, Any], node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of the node's documented shape (valid-looking, so requests get past the schema into the use cases),
    one in five replaced by a hostile value."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return st.one_of(*(_shaped(schema, n, depth) for n in node["anyOf"]))
    if "enum" in node or "const" in node:
        exact = st.sampled_from(node.get("enum") or [node["const"]])
    elif node.get("type") == "object" and depth < 4:
        props = node.get("properties", {})
        exact = st.fixed_dictionaries({k: _shaped(schema, v, depth + 1) for k, v in props.items() if k in node.get("required", [])},
                                      optional={k: _shaped(schema, v, depth + 1) for k, v in props.items() if k not in node.get("required", [])})
    elif node.get("type") == "array" and depth < 4:
        exact = st.lists(_shaped(schema, node.get("items", {}), depth + 1), max_size=3)
    elif node.get("type") == "integer":
        exact = st.integers(min_value=-2, max_value=10**13) | st.sampled_from([0, 1, 2026, 10**12, 2**63])
    elif node.get("type") == "boolean":
        exact = st.booleans()
    elif node.get("format") == "date":
        exact = dates
    elif node.get("type") == "string" and "pattern" in node and "[0-9]+" in node["pattern"]:
        exact = decimals
    elif node.get("type") == "string" and node.get("pattern", "").startswith("^[A-Za-z0-9]"):
        exact = ids
    elif node.get("type") == "string" and "pattern" in node:
        exact = st.from_regex(node["pattern"], fullmatch=True) | st.sampled_from(["2026-05", "0000-01", "520100", "110100"])
    else:
        exact = st.text(max_size=30) | st.sampled_from(["H1", "断供", "a\u0000b", "\ud800"])
    return st.one_of(exact, exact, exact, exact, scalars)


def _body_schema(schema: dict[str, Any], path: str, method: str) -> dict[str, Any] | None:
    body = schema["paths"][path][method].get("requestBody")
    return body["content"]["application/json"]["schema"] if body else None


@pytest.fixture(scope="module", params=(*SERVICES, "alerts"))
def any_service(request: pytest.FixtureRequest, pg_base_url: str) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    from tests.support import infra

    url = infra.migrated_database(pg_base_url, request.param)
    with InProcessClient(_app(request.param, url)) as client:
        _seed(request.param, client)
        yield client, client.get("/openapi.json").json()
    infra.drop_database(url)


def _seed(service: str, client: TestClient) -> None:
    """H001 (Guiyang) with contract C001 of P001 from distributor D001, an acceptance H001:RK-1 and an invoice INV-001."""
    from tests.service.orders.test_api import _contract
    from tests.service.orders.test_api import _deliver as deliver_contract
    from tests.service.settlement.support import invoice
    from tests.support.tokens import auth_header

    if service == "contracts":
        ops = auth_header("OPS", Role.OPERATOR)
        body = {"institution_id": "H001", "name": "贵阳市第一人民医院", "pooling_region_code": "520100", "county_code": "520102"}
        assert client.post("/institutions", json=body, headers=ops).status_code == 201
        for kind, party in (("/manufacturers", "M001"), ("/distributors", "D001")):
            assert client.post(kind, json={"party_id": party, "name": party}, headers=ops).status_code == 201
    elif service == "orders":
        assert deliver_contract(client, _contract("C001", "H001", "D001", "2.0050")) == "handled"
        his = auth_header("H001", Role.INSTITUTION)
        line = {"external_id": "RK-1", "contract_id": "C001", "accepted_quantity": 5, "accepted_on": "2026-03-02", "lot_number": "L1"}
        assert client.post("/institutions/H001/acceptances:batch", json={"lines": [line]}, headers=his).json()["accepted"] == 1
    elif service == "settlement":
        invoice(client, "INV-001", "500.00", institution="H001", distributor="D001")


@pytest.mark.fuzz
def test_fuzz_hundreds_of_bodies_per_write_endpoint_never_answer_5xx(
    any_service: tuple[TestClient, dict[str, Any]], token: Callable[[str, Role], dict[str, str]]
) -> None:
    """Samples ``JICAI_FUZZ_EXAMPLES`` (300) bodies per POST and PUT endpoint of all four services: bodies of the
    endpoint's documented shape (its OpenAPI schema: required and optional fields, nested lines, ids, dates around
    the profiles' coverage and today, decimals at the columns' limits, exponent and full-width digits), each value
    replaced by a hostile one (wrong type, NUL byte, lone surrogate, huge number) one time in five; and
    the CI run's free-form JSON. Every answer is a 2xx or a 4xx problem+json naming what is wrong."""
    client, schema = any_service
    writes = [(p, m) for p, ops in schema["paths"].items() for m in ("post", "put") if m in ops]
    for path, method in writes:
        body_schema = _body_schema(schema, path, method)
        _fuzz(client, token, path, method, _shaped(schema, body_schema) if body_schema else st.just(None))


@pytest.mark.fuzz
def test_fuzz_query_and_path_parameters_of_every_read_never_answer_5xx(
    any_service: tuple[TestClient, dict[str, Any]], token: Callable[[str, Role], dict[str, str]]
) -> None:
    """Samples ``JICAI_FUZZ_EXAMPLES`` / 3 (100) requests per GET endpoint: path and query parameters of their documented
    shape (months, dates before any profile and far ahead, years, offsets past 2^63) or hostile, as an operator."""
    client, schema = any_service
    ops = token("OPS", Role.OPERATOR)
    for path, item in schema["paths"].items():
        if "get" not in item or path in ("/metrics", "/openapi.json", "/readyz"):  # /readyz is 503 without Kafka, as it should
            continue
        _fuzz_read(client, ops, path, item["get"].get("parameters", []), schema)


def _fuzz_read(client: TestClient, headers: dict[str, str], path: str, params: list[dict[str, Any]], schema: dict[str, Any]) -> None:
    values = st.fixed_dictionaries({p["name"]: _shaped(schema, p.get("schema", {})) for p in params if p["in"] in ("path", "query")})

    @settings(max_examples=max(FUZZ_EXAMPLES // 3, 1), deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(drawn=values)
    def check(drawn: dict[str, Any]) -> None:
        concrete = path
        query: dict[str, str] = {}
        try:
            for p in params:
                value = drawn.get(p["name"])
                text = json.dumps(value) if isinstance(value, dict | list | bool) else "" if value is None else str(value)
                if p["in"] == "path":
                    concrete = concrete.replace("{" + p["name"] + "}", quote(text, safe="") or "x")
                elif value is not None:
                    query[p["name"]] = text
            response = client.get(concrete, params=query, headers=headers)
        except (httpx.InvalidURL, UnicodeEncodeError):
            return  # not a request a client can send
        assert response.status_code < 500, (concrete, query, response.text)

    check()


def _fuzz(client: TestClient, token: Callable[[str, Role], dict[str, str]], path: str, method: str, bodies: st.SearchStrategy[Any]) -> None:
    party, role = CALLERS.get(path, ("OPS", Role.OPERATOR))
    keys = st.sampled_from(KNOWN_IDS)

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(body=st.one_of(bodies, bodies, bodies, json_values), key=keys)
    def check(body: Any, key: str) -> None:
        concrete = path.replace("{institution_id}", party if role is Role.INSTITUTION else "H001")
        concrete = re.sub(r"\{[a-z_]+\}", key, concrete)
        raw = json.dumps(body).encode()  # ASCII escapes carry lone surrogates as a client's JSON library would
        response = client.request(method.upper(), concrete, content=raw, headers={**token(party, role), "content-type": "application/json"})
        assert response.status_code < 500, (method, path, body, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (path, response.headers)
            problem = response.json()
            assert problem["status"] == response.status_code and (problem.get("errors") or problem.get("detail"))

    check()
