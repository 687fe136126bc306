"""The console's pure logic: accounts and passwords, CSRF, the message catalog, charts, the overview's figures,
the alerts feed's one shape, a decision's chain and the actions' requests."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from jicai_console.domain import accounts, actions, charts, feed, i18n, province, sessions, why
from jicai_console.domain.accounts import AccountError, StaffRole, StaffUser
from jicai_console.settings import Settings
from jicai_kit.auth import Role

NOTICE_2027 = (Path(__file__).parent / "notice-2027-test.txt").read_text()


def test_a_password_is_stored_as_an_argon2id_hash_at_rfc_9106_costs_that_only_the_password_matches() -> None:
    passwords = accounts.Passwords()  # what a console uses unless JICAI_CONSOLE_PASSWORD_HASHING says otherwise
    stored = passwords.hash("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$") and "correct horse" not in stored
    assert passwords.matches(stored, "correct horse battery")
    assert not passwords.matches(stored, "correct horse batterY")
    assert not passwords.matches("not a hash", "correct horse battery")
    assert passwords.hash("correct horse battery") != stored  # salted
    assert not passwords.needs_rehash(stored)


def test_a_hash_at_the_tests_cheapest_costs_still_matches_and_is_made_again_at_rfc_9106_costs() -> None:
    cheap = accounts.Passwords("cheapest").hash("correct horse battery")
    assert cheap.startswith("$argon2id$v=19$m=8,t=1,p=1$")
    assert accounts.Passwords().matches(cheap, "correct horse battery")
    assert accounts.Passwords().needs_rehash(cheap)  # the next sign-in stores it at RFC 9106's costs


def test_production_refuses_the_tests_cheapest_password_hashing() -> None:
    with pytest.raises(ValidationError, match="JICAI_CONSOLE_PASSWORD_HASHING=cheapest is for tests: refused in production"):
        Settings(database_url="postgresql+psycopg://x@h/console", environment="production", password_hashing="cheapest")
    assert Settings(database_url="postgresql+psycopg://x@h/console", password_hashing="cheapest").passwords().hash("0123456789abc") \
        .startswith("$argon2id$v=19$m=8,t=1,p=1$")  # outside production it is what the suite uses


@pytest.mark.parametrize(("username", "password", "role", "party", "field"), [
    ("ops", "short", StaffRole.OPERATOR, None, "password"),
    ("has space", "long enough pw", StaffRole.OPERATOR, None, "username"),
    ("h9", "long enough pw", StaffRole.INSTITUTION, None, "party_id"),
    ("ops2", "long enough pw", StaffRole.OPERATOR, "H001", "party_id"),
])
def test_an_account_that_cannot_work_is_refused_naming_the_field(username: str, password: str, role: StaffRole, party: str | None,
                                                                 field: str) -> None:
    with pytest.raises(AccountError) as refused:
        accounts.check_new_account(username, password, role, party)
    assert refused.value.field == field


def test_roles_decide_pages_actions_and_the_api_token_s_party() -> None:
    ops = StaffUser("alice", StaffRole.OPERATOR, "Alice")
    viewer = StaffUser("bob", StaffRole.READ_ONLY, "Bob")
    hospital = StaffUser("h001", StaffRole.INSTITUTION, "H001 user", party_id="H001")
    assert ops.may_act and not viewer.may_act and not hospital.may_act
    assert viewer.sees_province and not hospital.sees_province
    assert hospital.may_open_institution("H001") and not hospital.may_open_institution("H002")
    assert (ops.api_party, accounts.API_ROLE[ops.role]) == ("alice", Role.OPERATOR)
    assert (hospital.api_party, accounts.API_ROLE[hospital.role]) == ("H001", Role.INSTITUTION)
    assert accounts.API_ROLE[viewer.role] is not Role.OPERATOR


def test_csrf_tokens_match_only_themselves_and_a_session_is_stored_as_a_hash() -> None:
    token = sessions.new_csrf_token()
    assert sessions.csrf_matches(token, token)
    assert not sessions.csrf_matches(token, None) and not sessions.csrf_matches(token, "") and not sessions.csrf_matches(token, token + "x")
    session_id = sessions.new_session_id()
    assert session_id not in sessions.session_hash(session_id) and len(sessions.session_hash(session_id)) == 64


@pytest.mark.parametrize(("asked", "after"), [
    ("/calendar", "/calendar"), ("/rankings?month=2026-10&sort=value", "/rankings?month=2026-10&sort=value"), (None, "/"), ("", "/"),
    ("//evil.example/x", "/"), ("/\\evil.example", "/"), ("https://evil.example/", "/"), ("calendar", "/"), ("/x\r\nSet-Cookie: a=b", "/"),
])
def test_signing_in_leads_only_to_a_page_of_the_console(asked: str | None, after: str) -> None:
    assert sessions.page_after_sign_in(asked) == after


def test_labels_are_chinese_first_with_english_on_request_and_every_key_in_both() -> None:
    assert i18n.translator("zh")("overview") == "全省概览"
    assert i18n.translator("en")("overview") == "Province overview"
    assert i18n.language("fr") == "zh"
    assert set(i18n.ZH) == set(i18n.EN)


def test_a_chart_escapes_its_labels_and_scales_its_bars() -> None:
    svg = charts.bar_chart(["<a>", "b"], [charts.Series("x&y", [2, 4], "#000")], title="t")
    assert "<a>" not in svg.replace("<svg", "").split("<title>")[0] and "&lt;a&gt;" in svg and "x&amp;y" in svg
    heights = [float(part.split('"')[0]) for part in svg.split('height="')[2:4]]
    assert heights[1] == pytest.approx(2 * heights[0])


def _invoice(invoice_id: str, region: str, status: str, outstanding: str) -> dict[str, object]:
    return {"invoice_id": invoice_id, "pooling_region_code": region, "status": status, "outstanding": outstanding}


def test_overdue_per_region_counts_overdue_and_withheld_invoices_only() -> None:
    invoices = [_invoice("a", "520100", "withheld", "200.00"), _invoice("b", "520100", "overdue", "10.50"),
                _invoice("c", "520100", "paid", "0.00"), _invoice("d", "370100", "open", "99.00")]
    assert province.overdue_by_region(invoices) == [province.RegionOverdue("520100", 2, Decimal("210.50"))]


def _kpi(institution: str, region: str | None, value: str | None) -> dict[str, object]:
    return {"institution_id": institution, "pooling_region_code": region, "indicator": "volume_completion", "value": value}


def test_volume_completion_is_banded_by_each_region_s_own_lines_and_listed_per_band() -> None:
    guizhou = province.CompletionLines(warning_below=Decimal("0.80"), suspend_below=Decimal("0.70"))
    stricter = province.CompletionLines(warning_below=Decimal("0.90"), suspend_below=Decimal("0.85"))
    lines = {"520400": guizhou, "520100": stricter, "500000": None}
    rows = [_kpi("H004", "520400", "0.5000"), _kpi("H005", "520400", "0.7500"), _kpi("H006", "520400", "0.8000"),
            _kpi("H007", "520400", None), _kpi("H001", "520100", "0.8000"), _kpi("CQ01", "500000", "0.1000")]
    distribution = {r.pooling_region_code: r.counts for r in province.completion_distribution(rows, lines)}
    assert list(distribution) == ["500000", "520100", "520400"]
    assert distribution["520400"] == {"band_suspend": 1, "band_warning": 1, "band_met": 1, "band_no_target": 1, "band_no_lines": 0}
    assert distribution["520100"]["band_suspend"] == 1, "0.80 meets Guizhou's warning line but not a stricter region's"
    assert distribution["500000"]["band_no_lines"] == 1
    listed = province.completion_by_band(rows, lines, region="520400", band="band_warning")
    assert [(r["institution_id"], r["band"]) for r in listed] == [("H005", "band_warning")]
    assert len(province.completion_by_band(rows, lines, region="520400")) == 4
    placed_nowhere = province.completion_distribution([_kpi("X1", None, "0.5000"), *rows], lines)
    assert placed_nowhere[0].pooling_region_code == "" and placed_nowhere[0].counts["band_no_lines"] == 1


def _entry(kind: str, since: date, closed: date | None = None, institution: str = "H1") -> feed.FeedEntry:
    return feed.FeedEntry(f"{kind}-{since}", kind, "R2", institution, "INV", since, "closed" if closed else "open", closed)


def test_warnings_per_week_count_openings_and_closings_in_their_iso_weeks() -> None:
    entries = [_entry("overdue_warning", date(2026, 10, 9), date(2026, 10, 20)), _entry("overdue_warning", date(2026, 10, 12)),
               _entry("settlement_withheld", date(2026, 10, 23))]
    weeks = {w.monday: (w.opened, w.closed) for w in province.warnings_per_week(entries, weeks=3)}
    assert weeks == {date(2026, 10, 5): (1, 0), date(2026, 10, 12): (1, 0), date(2026, 10, 19): (0, 1)}
    assert province.institutions_with_open(entries, "settlement_withheld") == ["H1"]
    assert [e.since for e in province.warnings_of_week(entries, date(2026, 10, 12), "opened")] == [date(2026, 10, 12)]
    assert [e.since for e in province.warnings_of_week(entries, date(2026, 10, 19), "closed")] == [date(2026, 10, 9)]
    assert province.warnings_of_week(entries, date(2026, 10, 19), "opened") == [], "a withhold is no warning"


def test_the_alerts_feed_s_items_become_entries_with_their_rule_and_unknown_fields_are_ignored() -> None:
    items: list[dict[str, Any]] = [
        {"alert_id": "s2", "kind": "settlement_suspended", "status": "open", "institution_id": "H1", "subject": "2026-09-30",
         "opened_on": "2026-10-01", "closed_on": None, "outstanding_amount": None, "summary": "暂停医保月结算", "added_later": 1},
        {"alert_id": "w1", "kind": "overdue_warning", "status": "closed", "institution_id": "H1", "subject": "INV-1",
         "opened_on": "2026-10-09", "closed_on": "2026-10-20", "outstanding_amount": "120.50", "summary": "预警"},
        {"alert_id": "m1", "kind": "manufacturer_report_missed", "status": "open", "institution_id": None, "manufacturer_id": "M1",
         "subject": "2026-09", "opened_on": "2026-10-16", "closed_on": None},
    ]
    by_id = {e.decision_id: e for e in feed.from_unified(items)}
    assert (by_id["s2"].rule, by_id["s2"].status, by_id["s2"].since, by_id["s2"].amount) == ("R3", "open", date(2026, 10, 1), None)
    assert (by_id["w1"].rule, by_id["w1"].closed_on, by_id["w1"].amount, by_id["w1"].summary) == ("R2", date(2026, 10, 20), "120.50", "预警")
    assert by_id["m1"].institution_id == "M1"
    assert [e.decision_id for e in feed.ordered(list(by_id.values()))] == ["s2", "w1", "m1"]


def test_a_decision_reads_as_causes_then_profile_and_parameters_then_the_decision() -> None:
    explained = {
        "decision_id": "withhold-INV-1", "kind": "settlement_withheld", "effective_on": "2026-10-23",
        "decision": {"decision_id": "withhold-INV-1", "caused_by": ["evt-invoice", "evt-day"], "withheld_from": "2026-10-23"},
        "event": {"id": "e1", "type": "cn.jicai.alerts.SettlementWithheld.v1"},
        "profile": {"profile_id": "guizhou-2020", "version": 1, "title": "贵州", "source": "黔医保发〔2020〕 §五"},
        "parameters": {"overdue": {"withhold_after_working_days": 10}}, "calendar": {"2026": "chinesecalendar"},
    }
    steps = why.chain(explained)
    assert [s.heading for s in steps] == ["events", "profile", "parameters", "calendar_source", "decision"]
    assert steps[0].lines == [("evt-invoice", ""), ("evt-day", "")]
    assert ("overdue.withhold_after_working_days", "10") in steps[2].lines
    assert ("withheld_from", "2026-10-23") in steps[-1].lines


def test_each_action_becomes_one_request_and_a_missing_reason_refuses_it() -> None:
    grant = actions.ACTIONS["grant_exemption"].build(
        {"institution_id": "H001", "exemption_id": "EX1", "from": "2026-01-01", "to": "2026-06-30", "reason": "洪灾"})
    assert (grant.method, grant.service, grant.path) == ("POST", "alerts", "/institutions/H001/volume-exemptions")
    assert grant.body == {"exemption_id": "EX1", "reason": "洪灾", "from": "2026-01-01", "to": "2026-06-30"}
    with pytest.raises(actions.ActionInputError) as refused:
        actions.ACTIONS["redrive"].build({"service": "alerts", "dead_letter_id": "3"})
    assert refused.value.field == "reason"
    with pytest.raises(actions.ActionInputError):
        actions.ACTIONS["redrive"].build({"service": "nowhere", "dead_letter_id": "3", "reason": "x"})


def test_a_pasted_notice_is_previewed_by_the_platform_s_parser_and_loaded_as_its_calendar_file() -> None:
    year, holidays, makeup, file = actions.read_calendar_notice(NOTICE_2027)
    assert year == 2027 and "2027-02-05" in holidays and makeup == ["2027-02-20", "2027-04-25", "2027-09-26", "2027-10-09"]
    load = actions.ACTIONS["load_calendar"].build({"notice": NOTICE_2027, "reason": "2027 schedule published"})
    assert (load.method, load.path) == ("PUT", "/calendars/2027") and load.body is not None and "year = 2027" in load.body["file"]
    with pytest.raises(actions.ActionInputError) as refused:
        actions.read_calendar_notice(NOTICE_2027.replace("（周五）至3日", "（周四）至3日"))
    assert refused.value.field == "notice"


def test_a_go_live_is_sent_to_whichever_service_offers_the_route_with_the_reason_as_its_source() -> None:
    go_live = actions.ACTIONS["set_go_live"].build(
        {"region_code": "520100", "rule": "volume_completion", "from": "2027-01-01", "reason": "贵州 R3 上线"})
    assert (go_live.service, go_live.route) == (actions.DISCOVERED, "/policy/regions/{region_code}/go-lives/{rule}")
    assert go_live.path == "/policy/regions/520100/go-lives/volume_completion"
    assert go_live.body == {"from": "2027-01-01", "source": "贵州 R3 上线"}
    with pytest.raises(actions.ActionInputError) as refused:
        actions.ACTIONS["set_go_live"].build({"region_code": "520100", "rule": "R9", "from": "2027-01-01", "reason": "x"})
    assert refused.value.field == "rule"
