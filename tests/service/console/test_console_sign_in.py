"""The console's sign-in, sessions, CSRF and roles on its real database (PostgreSQL, migrated by its Alembic history).

These need none of the four services: every refusal here happens before the console calls them.
"""
from __future__ import annotations

import asyncio
import html
import json
import re
from pathlib import Path
from urllib.parse import urlencode

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from jicai_console.adapters.store import Store
from jicai_console.domain.accounts import StaffRole
from jicai_console.entrypoints.app import build_app
from jicai_console.entrypoints.cli import app as console_cli
from jicai_console.entrypoints.web import SESSION_COOKIE
from jicai_console.settings import Settings
from tests.support.shared_apps import SharedApp, SharedApps
from tests.support.tokens import SIGNING_KEY_FILE

PASSWORD = "a long test password"
ACCOUNTS = [("ops", StaffRole.OPERATOR, None), ("viewer", StaffRole.READ_ONLY, None), ("h001", StaffRole.INSTITUTION, "H001")]


def _build(url: str) -> FastAPI:
    # the services' URLs lead nowhere: a test that reached them would fail with 502
    settings = Settings(database_url=url, contracts_url="http://127.0.0.1:9", orders_url="http://127.0.0.1:9",
                        settlement_url="http://127.0.0.1:9", alerts_url="http://127.0.0.1:9", signing_key_file=SIGNING_KEY_FILE)
    return build_app(settings)


@pytest.fixture
def console_app(shared_apps: SharedApps) -> SharedApp:
    """The module's console, on empty tables."""
    return shared_apps.fresh("console", _build)


@pytest.fixture
def database(console_app: SharedApp) -> str:
    url = console_app.url
    store = Store(url, console_app.app.state.settings.passwords())

    async def add() -> None:
        for username, role, party in ACCOUNTS:
            await store.add_user(username, PASSWORD, role, username, party)
        await store.close()

    asyncio.run(add())
    return url


@pytest.fixture
def console(console_app: SharedApp, database: str) -> TestClient:
    console_app.client.follow_redirects = False
    return console_app.client


def _sign_in_token(client: TestClient) -> str:
    page = client.get("/sign-in")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Signs in; returns the session's CSRF token as the pages embed it."""
    answer = client.post("/sign-in", data={"username": username, "password": password, "csrf_token": _sign_in_token(client)})
    assert answer.status_code == 303, answer.text
    page = client.get("/audit" if username != "h001" else "/sign-in")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def _rows(database: str, table: str) -> list[tuple[object, ...]]:
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(f"SELECT * FROM {table}").fetchall()


def test_a_signed_in_session_is_an_httponly_samesite_signed_cookie_whose_id_is_stored_only_hashed(console: TestClient, database: str) -> None:
    answer = console.post("/sign-in", data={"username": "ops", "password": PASSWORD, "csrf_token": _sign_in_token(console)})
    assert answer.status_code == 303
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    value = console.cookies[SESSION_COOKIE]
    session_id = value.split(".")[0].strip('"')
    stored = _rows(database, "sessions")
    assert len(stored) == 1 and all(session_id not in str(column) for column in stored[0])
    assert console.get("/audit").status_code == 200


def test_a_wrong_password_or_unknown_user_opens_no_session(console: TestClient, database: str) -> None:
    for username, password in (("ops", PASSWORD + "x"), ("nobody", PASSWORD)):
        answer = console.post("/sign-in", data={"username": username, "password": password, "csrf_token": _sign_in_token(console)})
        assert answer.status_code == 401 and SESSION_COOKIE not in console.cookies
    assert _rows(database, "sessions") == []
    assert console.get("/overview").headers["location"] == "/sign-in?next=%2Foverview"


def test_a_sign_in_without_its_csrf_token_is_refused(console: TestClient) -> None:
    console.get("/sign-in")
    answer = console.post("/sign-in", data={"username": "ops", "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403 and SESSION_COOKIE not in console.cookies


def test_a_post_without_the_session_s_csrf_token_is_refused_and_nothing_is_recorded(console: TestClient, database: str) -> None:
    token = sign_in(console, "ops")
    form = {"institution_id": "H001", "exemption_id": "EX1", "from": "2026-01-01", "to": "2026-06-30", "reason": "flood"}
    for sent in (form, {**form, "csrf_token": "not-the-session-s"}):
        answer = console.post("/actions/grant_exemption", data=sent)
        assert answer.status_code == 403, answer.text
    assert _rows(database, "audit") == []
    assert console.post("/sign-out", data={}).status_code == 403  # sign-out is a form too
    assert console.post("/sign-out", data={"csrf_token": token}).status_code == 303


def test_a_forged_or_signed_out_cookie_is_no_session(console: TestClient) -> None:
    token = sign_in(console, "ops")
    value = console.cookies[SESSION_COOKIE]
    console.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert console.get("/audit").headers["location"] == "/sign-in?next=%2Faudit"
    console.cookies.set(SESSION_COOKIE, value)
    assert console.post("/sign-out", data={"csrf_token": token}).status_code == 303
    console.cookies.set(SESSION_COOKIE, value)  # replayed after sign-out: the server forgot it
    assert console.get("/audit").headers["location"] == "/sign-in?next=%2Faudit"


def test_signing_in_leads_back_to_the_page_asked_for_and_never_to_another_site(console: TestClient) -> None:
    asked = "/rankings?month=2026-10&indicator=volume_completion"
    form_url = console.get(asked).headers["location"]
    assert form_url == "/sign-in?" + urlencode({"next": asked})
    form = console.get(form_url).text
    carried = re.search(r'name="next" value="([^"]+)"', form)
    assert carried and html.unescape(carried.group(1)) == asked
    wrong = console.post("/sign-in", data={"username": "ops", "password": "wrong", "csrf_token": _sign_in_token(console), "next": asked})
    assert wrong.status_code == 401 and f'name="next" value="{html.escape(asked)}"' in wrong.text  # a second try still leads there
    answer = console.post("/sign-in", data={"username": "ops", "password": PASSWORD, "csrf_token": _sign_in_token(console), "next": asked})
    assert answer.status_code == 303 and answer.headers["location"] == asked
    for elsewhere in ("//evil.example/overview", "https://evil.example/", "/\\evil.example/", "overview"):
        console.cookies.clear()
        answer = console.post("/sign-in", data={"username": "ops", "password": PASSWORD, "csrf_token": _sign_in_token(console), "next": elsewhere})
        assert answer.status_code == 303 and answer.headers["location"] == "/", elsewhere
        assert 'name="next"' not in console.get("/sign-in", params={"next": elsewhere}).text


def test_read_only_staff_cannot_act_even_with_a_valid_form(console: TestClient, database: str) -> None:
    token = sign_in(console, "viewer")
    form = {"institution_id": "H001", "exemption_id": "EX1", "from": "2026-01-01", "to": "2026-06-30", "reason": "flood", "csrf_token": token}
    assert console.post("/actions/grant_exemption/confirm", data=form).status_code == 403
    assert console.post("/actions/grant_exemption", data=form).status_code == 403
    assert _rows(database, "audit") == []


def test_an_institution_user_opens_only_its_own_pages(console: TestClient) -> None:
    sign_in(console, "h001")
    assert console.get("/").headers["location"] == "/institutions/H001"
    for page in ("/institutions/H002", "/overview", "/rankings", "/dead-letters", "/audit", "/calendar", "/distributors/D001",
                 "/volume-completion", "/volume-completion?region=520400&band=band_suspend", "/warnings?week=2026-10-05"):
        assert console.get(page).status_code == 403, page


def test_the_cli_creates_an_account_once_and_refuses_a_short_password(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JICAI_CONSOLE_DATABASE_URL", database)
    runner = CliRunner()
    made = runner.invoke(console_cli, ["add-user", "fund1", "--role", "fund"], env={"JICAI_CONSOLE_PASSWORD": PASSWORD})
    assert made.exit_code == 0 and "created" in made.output
    again = runner.invoke(console_cli, ["add-user", "fund1", "--role", "fund"], env={"JICAI_CONSOLE_PASSWORD": "another long password"})
    assert again.exit_code == 0 and "exists" in again.output
    short = runner.invoke(console_cli, ["add-user", "fund2", "--role", "fund"], env={"JICAI_CONSOLE_PASSWORD": "short"})
    assert short.exit_code == 2 and "password" in short.output
    stored = {row[0]: row for row in _rows(database, "staff_users")}
    assert "fund2" not in stored and str(stored["fund1"][1]).startswith("$argon2id$")


def test_the_cli_adds_several_accounts_at_once_or_none_when_one_is_refused(
    database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JICAI_CONSOLE_DATABASE_URL", database)
    runner, env = CliRunner(), {"JICAI_CONSOLE_PASSWORD": PASSWORD}
    listed = tmp_path / "accounts.json"
    listed.write_text(json.dumps([{"username": "fund3", "role": "fund", "display_name": "医保基金"},
                                  {"username": "d9", "role": "distributor", "party_id": "D9"}]))
    made = runner.invoke(console_cli, ["add-users", str(listed)], env=env)
    assert made.exit_code == 0 and made.output.splitlines() == ["fund3: created", "d9: created"]
    listed.write_text(json.dumps([{"username": "fund4", "role": "fund"}, {"username": "d10", "role": "distributor"}]))
    refused = runner.invoke(console_cli, ["add-users", str(listed)], env=env)
    assert refused.exit_code == 2 and "party_id" in refused.output
    with psycopg.connect(database.replace("postgresql+psycopg://", "postgresql://")) as conn:
        stored = {row[0]: row[1:] for row in conn.execute("SELECT username, role, party_id, display_name FROM staff_users "
                                                          "WHERE username IN ('fund3', 'd9', 'fund4', 'd10')")}
    assert stored == {"fund3": ("fund", None, "医保基金"), "d9": ("distributor", "D9", "d9")}
