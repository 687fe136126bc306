"""``POST /clock/days`` refuses what is not a range of business days, naming the field, and moves no time."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from jicai_kit.auth import Role
from jicai_kit.clock_api import MAX_DAYS_PER_REQUEST
from tests.support.shared_apps import DefaultApps


@pytest.mark.parametrize(("body", "field", "reason"), [
    ({"first": 0, "last": None}, "first", "JSON string YYYY-MM-DD"),  # lax parsing read 0 as 1970-01-01, then answered 503
    ({"first": True}, "first", "JSON string YYYY-MM-DD"),
    ({"first": "2026-02-30"}, "first", "not a calendar date"),
    ({"first": "2026-03-02", "last": "2026-03-01"}, "last", "is before first"),
    ({"first": "2026-01-01", "last": "2027-01-02"}, "last", f"at most {MAX_DAYS_PER_REQUEST} days"),
    ({"first": "2026-01-01", "days": 3}, "days", "Extra inputs are not permitted"),
])
def test_a_body_that_is_no_range_of_days_is_a_422_naming_the_field_and_closes_nothing(
    default_apps: DefaultApps, token: Callable[[str, Role], dict[str, str]], body: dict[str, object], field: str, reason: str,
) -> None:
    client = default_apps.default("contracts").client
    before = client.get("/clock", headers=token("OPS", Role.OPERATOR)).json()
    response = client.post("/clock/days", json=body, headers=token("OPS", Role.OPERATOR))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problems = response.json()["errors"]
    assert any(p["field"] == field and reason in p["reason"] for p in problems), problems
    assert client.get("/clock", headers=token("OPS", Role.OPERATOR)).json() == before
