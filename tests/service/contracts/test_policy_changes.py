"""Policy changes through contracts' REST API on real PostgreSQL: an operator assigns a region, sets a rule's go-live
and loads a calendar year; each is decided against the folded book, published on the policy topic once, refused with
a problem naming the field (422) or conflicting with what decisions were taken with (409)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jicai_kit.auth import Role
from jicai_kit.clock import day_closed_envelope
from tests.service.contracts.conftest import HUBEI_BATCH, Auth, count, published

CALENDAR_2027 = """
year = 2027
source = "test schedule for 2027 (not the State Council's)"
holidays = [2027-01-01, 2027-01-02, 2027-01-03]
makeup_working_days = []
"""
BEIJING = {"profile_id": "hubei-2019", "version": 1, "region_name": "北京市", "source": "a test notice"}


def close_days(client: TestClient, first: date, last: date) -> None:
    """Days closed as contracts learns them (its day-close consumer: markers on its topic and the policy topic)."""
    runtime: Any = client.app.state.runtime  # type: ignore[attr-defined]
    consumer = runtime.event_consumer(runtime.day_close_markers)
    while first <= last:
        assert client.portal is not None
        assert client.portal.call(consumer.deliver, day_closed_envelope(first)) == "handled"
        first += timedelta(days=1)


def problem(response: Any) -> tuple[int, str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    return response.status_code, body["errors"][0]["field"] if body.get("errors") else body["type"]


def test_an_assigned_region_becomes_writable_and_reads_back_with_the_event_as_origin(
    hubei: TestClient, ops: dict[str, str], token: Auth, db_url: str
) -> None:
    batch = HUBEI_BATCH | {"batch_id": "BJ-1", "pooling_region_code": "110100"}
    before = hubei.post("/batches", json=batch, headers=ops)
    assert problem(before) == (422, "pooling_region_code") and "110100 has no policy profile assigned" in before.json()["detail"]
    assert hubei.get("/policy/regions/110100?on=2026-02-01", headers=ops).status_code == 404
    path = "/policy/regions/110100/assignments/2026-01-01"
    assert hubei.put(path, json=BEIJING, headers=token("H1", Role.INSTITUTION)).status_code == 403

    created = hubei.put(path, json=BEIJING, headers=ops)

    assert (created.status_code, created.json()["created"]) == (201, True), created.text
    [event] = published(db_url, "RegionProfileAssigned")
    assert (event["type"], event["partitionkey"], event["data"]["region_code"]) == ("cn.jicai.policy.RegionProfileAssigned.v1", "policy", "110100")
    assert created.headers["Jicai-Consistency-Token"] == f"cn.jicai.policy.RegionProfileAssigned.v1/{event['id']}"
    shown = hubei.get("/policy/regions/110100?on=2026-02-01", headers=ops).json()
    assert (shown["profile_id"], shown["profile_version"], shown["effective_from"], shown["source"]) == ("hubei-2019", 1, "2026-01-01", "a test notice")
    assert shown["assignment_origin"] == {"kind": "event", "event_id": event["id"]}
    assert hubei.post("/batches", json=batch, headers=ops).status_code == 201, "writable once folded"

    again = hubei.put(path, json=BEIJING, headers=ops)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert problem(hubei.put(path, json=BEIJING | {"profile_id": "guizhou-2020"}, headers=ops)) == (409, "urn:jicai:problem:conflict")
    assert problem(hubei.put("/policy/regions/110100/assignments/2027-01-01", json=BEIJING | {"profile_id": "beijing-2030"}, headers=ops)) == (
        422, "profile_id")
    assert problem(hubei.put(path, json=BEIJING | {"version": True}, headers=ops)) == (422, "version")
    assert problem(hubei.put("/policy/regions/01/assignments/2026-01-01", json=BEIJING, headers=ops)) == (422, "region_code")
    assert count(db_url, "select count(*) from policy_changes") == 1, "refusals change nothing"


def test_a_go_live_is_set_once_withdrawn_while_not_reached_and_final_once_reached(client: TestClient, ops: dict[str, str], db_url: str) -> None:
    path = "/policy/regions/520100/go-lives/volume_completion"
    r3 = {"from": "2026-07-01", "source": "the platform holds every acceptance since 2026-01-01"}
    close_days(client, date(2026, 6, 29), date(2026, 6, 30))

    assert client.put(path, json=r3, headers=ops).status_code == 201
    [event] = published(db_url, "RuleGoLiveSet")
    shown = client.get("/policy/regions/520100?on=2026-09-30", headers=ops).json()
    assert shown["volume_completion_from"] == "2026-07-01"
    assert shown["go_lives"]["volume_completion_from"] == {"go_live": "2026-07-01", "origin": {"kind": "event", "event_id": event["id"]}}
    assert shown["go_lives"]["non_winning_cap_from"] == {"go_live": "2020-04-14", "origin": {"kind": "file", "event_id": None}}
    assert client.put(path, json=r3, headers=ops).json()["created"] is False

    withdrawn = client.put(path, json={"from": None, "source": "not yet"}, headers=ops)
    assert withdrawn.status_code == 201
    assert client.get("/policy/regions/520100?on=2026-09-30", headers=ops).json()["volume_completion_from"] is None
    assert client.put(path, json=r3, headers=ops).status_code == 201
    close_days(client, date(2026, 7, 1), date(2026, 7, 1))
    assert problem(client.put(path, json={"from": "2026-10-01", "source": "later"}, headers=ops)) == (409, "urn:jicai:problem:conflict")
    assert problem(client.put(path, json={"from": None, "source": "withdraw"}, headers=ops)) == (409, "urn:jicai:problem:conflict")

    assert problem(client.put("/policy/regions/520200/go-lives/volume_completion", json={"from": "2026-07-01", "source": "x"}, headers=ops)) == (
        422, "from")  # a day closed already
    assert problem(client.put("/policy/regions/420100/go-lives/non_winning_cap", json={"from": "2027-01-01", "source": "x"}, headers=ops)) == (
        422, "from")  # Hubei 003 sets no cap
    assert problem(client.put("/policy/regions/110100/go-lives/volume_completion", json={"from": "2027-01-01", "source": "x"}, headers=ops)) == (
        422, "region_code")
    assert client.put("/policy/regions/520100/go-lives/payment_standard", json=r3, headers=ops).status_code == 422
    assert problem(client.put(path, json={"from": 20261001, "source": "x"}, headers=ops)) == (422, "from")
    assert count(db_url, "select count(*) from policy_changes") == 3


def test_only_an_operator_loads_a_calendar_year_once_and_bad_files_are_refused_naming_the_field(
    client: TestClient, ops: dict[str, str], token: Auth, db_url: str
) -> None:
    def load(body: dict[str, Any], year: int = 2027, headers: dict[str, str] = ops) -> Any:
        return client.put(f"/calendars/{year}", json=body, headers=headers)

    assert load({"file": CALENDAR_2027}, headers=token("H001", Role.INSTITUTION)).status_code == 403
    bad = load({"source": "x", "holidays": ["2027-01-01"], "makeup_working_days": ["2027-01-04"]})
    assert problem(bad) == (422, "makeup_working_days") and "Saturday or Sunday" in bad.json()["errors"][0]["reason"]
    assert problem(load({"file": CALENDAR_2027}, 2028)) == (422, "year")
    covered = load({"source": "x", "holidays": ["2026-01-01"]}, 2026)
    assert covered.status_code == 409 and "chinesecalendar" in covered.json()["detail"]
    assert count(db_url, "select count(*) from policy_changes") == 0, "refusals change nothing"

    loaded = load({"file": CALENDAR_2027})
    assert loaded.status_code == 201
    [event] = published(db_url, "CalendarYearLoaded")
    assert (event["type"], event["data"]["holidays"], event["data"]["loaded_by"]) == (
        "cn.jicai.policy.CalendarYearLoaded.v1", ["2027-01-01", "2027-01-02", "2027-01-03"], "OPS")
    again = load({"file": CALENDAR_2027})
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert load({"source": "other", "holidays": ["2027-01-01"]}).status_code == 409


def test_the_day_close_marks_the_policy_topic_too(client: TestClient, db_url: str) -> None:
    close_days(client, date(2026, 7, 1), date(2026, 7, 1))
    assert [m["type"] for m in published(db_url, "DayCloseReached")] == [
        "cn.jicai.contracts.DayCloseReached.v1", "cn.jicai.policy.DayCloseReached.v1"]
    assert count(db_url, "select count(*) from outbox where topic like '%jicai.policy.v1' and all_partitions") == 1


def test_a_refresh_between_the_change_and_its_commit_does_not_keep_the_book_without_it(
    hubei: TestClient, ops: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consumer refreshes the book before each event it handles: one that did so while the assignment's transaction
    was still open read the changes without it. The assignment's next write must still see the change (it was refused
    for REFRESH_S: the e2e policy-topic test failed so under load)."""
    from jicai_contracts.adapters.policy import FOLDED
    from jicai_contracts.entrypoints import policy_api
    from jicai_kit.commands import record

    async def record_with_a_consumer_refreshing_before_the_commit(runtime: Any, response: Any, record_id: str, command: Any) -> Any:
        async def command_then_a_refresh(uow: Any) -> bool:
            done: bool = await command(uow)
            async with runtime.session_factory() as other:  # another transaction: the change is not committed yet
                await FOLDED.refresh(other, runtime.tables, force=True)
            return done

        return await record(runtime, response, record_id, command_then_a_refresh)

    monkeypatch.setattr(policy_api, "record", record_with_a_consumer_refreshing_before_the_commit)
    assert hubei.put("/policy/regions/110100/assignments/2026-01-01", json=BEIJING, headers=ops).status_code == 201
    batch = HUBEI_BATCH | {"batch_id": "BJ-2", "pooling_region_code": "110100"}
    assert hubei.post("/batches", json=batch, headers=ops).status_code == 201, "writable at once, not REFRESH_S later"
