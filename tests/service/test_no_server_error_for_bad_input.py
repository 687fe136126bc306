"""Property test: no input, however malformed, makes any write endpoint answer 5xx.

For every POST endpoint of the contracts, orders and settlement services (the
paths come from each service's own OpenAPI document), Hypothesis posts JSON
built from the endpoint's real field names with hostile values (wrong types,
huge numbers, NaN-like strings, nesting, nulls, unicode) and plain garbage.
Every answer must be a 2xx or a 4xx problem+json naming what is wrong.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jicai_kit.auth import Role

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
def service(request: pytest.FixtureRequest, pg_base_url: str) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    from tests.support import infra

    url = infra.migrated_database(pg_base_url, request.param)
    with TestClient(_app(request.param, url)) as client:
        yield client, client.get("/openapi.json").json()
    infra.drop_database(url)


def test_no_write_endpoint_answers_5xx_to_any_json(service: tuple[TestClient, dict[str, Any]], token: Callable[[str, Role], dict[str, str]]) -> None:
    client, schema = service
    posts = [p for p, ops in schema["paths"].items() if "requestBody" in ops.get("post", {})]  # writes that take JSON
    assert posts, "the service documents its write endpoints"

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        path = data.draw(st.sampled_from(posts))
        fields = _fields(schema, path)
        body = data.draw(st.one_of(
            st.fixed_dictionaries({f: json_values for f in fields}, optional={"unexpected": json_values}),
            st.dictionaries(st.sampled_from(fields or ["x"]), json_values, max_size=len(fields) + 1),
            json_values,
        ))
        party, role = CALLERS.get(path, ("OPS", Role.OPERATOR))  # operators may make every other write
        concrete = re.sub(r"\{[a-z_]+\}", "H001", path)
        response = client.post(concrete, json=body, headers=token(party, role))
        assert response.status_code < 500, (path, body, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (path, response.headers)
            problem = response.json()
            assert problem["status"] == response.status_code and (problem.get("errors") or problem.get("detail"))

    check()
