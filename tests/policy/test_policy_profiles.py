"""Policy profiles, region mapping and their validation at load time."""

from __future__ import annotations

import copy
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from jicai_policy import (
    NoProfileForRegion,
    PaymentTermRule,
    PolicyFileError,
    UnknownProfile,
    WarningSchedule,
    load_policy_book,
    load_profile_file,
    parse_profile,
)
from jicai_policy.loading import PACKAGED_PROFILE_DIR

DATA = Path(__file__).parent / "data"
GUIZHOU_FILE = PACKAGED_PROFILE_DIR / "guizhou-2020.toml"
GUIZHOU_PREFECTURES = {
    "520100": "贵阳市",
    "520200": "六盘水市",
    "520300": "遵义市",
    "520400": "安顺市",
    "520500": "毕节市",
    "520600": "铜仁市",
    "522300": "黔西南布依族苗族自治州",
    "522600": "黔东南苗族侗族自治州",
    "522700": "黔南布依族苗族自治州",
}


def _guizhou_data() -> dict[str, Any]:
    with GUIZHOU_FILE.open("rb") as handle:
        return tomllib.load(handle)


def test_guizhou_profile_carries_the_notice_numbers() -> None:
    profile = load_policy_book().get("guizhou-2020", 1)
    assert profile.timezone == "Asia/Shanghai"
    assert profile.payment_term.rule is PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS
    assert profile.payment_term.days == 30
    assert profile.payment_term.source == "000_0b8eb23f70a351bf.txt §五(三)"
    assert profile.overdue.grace_working_days == 10
    assert profile.overdue.warning_schedule is WarningSchedule.FIRST_OVERDUE_DAY
    assert profile.volume_completion is not None
    assert profile.volume_completion.period == "quarter"
    assert profile.volume_completion.warning_below == Decimal("0.80")
    assert profile.volume_completion.suspend_below == Decimal("0.70")
    assert profile.prepayment is not None
    assert profile.prepayment.share_of_last_year_monthly_fund_payment == Decimal("0.30")
    assert profile.prepayment.minimum_share_of_procurement_amount == Decimal("0.30")
    assert profile.prepayment.paid_by_month == 1
    assert profile.non_winning_cap is not None
    assert profile.non_winning_cap.max_ratio_to_winning == Decimal(1)


@pytest.mark.parametrize(("code", "name"), sorted(GUIZHOU_PREFECTURES.items()))
def test_guizhou_prefectures_map_to_guizhou_2020_from_the_notice_date(code: str, name: str) -> None:
    book = load_policy_book()
    assert book.profile_for(code, date(2020, 4, 14)).key == ("guizhou-2020", 1)
    assert book.profile_for(code, date(2026, 10, 8)).key == ("guizhou-2020", 1)
    assert book.entry_for(code, date(2026, 1, 1)).region_name == name
    with pytest.raises(NoProfileForRegion, match="takes effect on 2020-04-14"):
        book.profile_for(code, date(2020, 4, 13))


def test_packaged_regions_include_exactly_guizhou_prefectures_under_52() -> None:
    assert {code for code in load_policy_book().regions if code.startswith("52")} == set(GUIZHOU_PREFECTURES)


def test_unknown_region_and_unknown_profile() -> None:
    book = load_policy_book()
    with pytest.raises(NoProfileForRegion, match=r"'110100'.*no profile is assigned to the region"):
        book.profile_for("110100", date(2026, 1, 1))
    with pytest.raises(UnknownProfile, match="'guizhou-2020' version 9"):
        book.get("guizhou-2020", 9)


def test_versions_switch_on_their_effective_date() -> None:
    book = load_policy_book(DATA / "policy-dir-versions")
    assert book.profile_for("990001", date(2026, 6, 30)).version == 1
    assert book.profile_for("990001", date(2026, 7, 1)).version == 2
    with pytest.raises(NoProfileForRegion):
        book.profile_for("990001", date(2025, 12, 31))


def test_environment_variables_point_at_other_directories(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JICAI_POLICY_DIR", str(DATA / "policy-dir-versions"))
    monkeypatch.setenv("JICAI_CALENDAR_DIR", str(DATA / "calendars"))
    book = load_policy_book()
    assert set(book.regions) == {"990001"}
    assert book.calendar.covers(2027)
    # explicit arguments win over the environment; () means no calendar overrides
    explicit = load_policy_book(PACKAGED_PROFILE_DIR, calendar_overrides=())
    assert "520100" in explicit.regions
    assert not explicit.calendar.covers(2099)
    overridden = load_policy_book(calendar_overrides=[DATA / "calendar-override-2026" / "cn-2026.toml"])
    assert overridden.calendar.is_working_day(date(2026, 10, 1))  # fixture has no National Day


DELETE = object()


def _set(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    *parents, last = dotted.split(".")
    target = changed
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return changed


W_BELOW = "volume_completion.warning_below"
MIN_SHARE = "prepayment.minimum_share_of_procurement_amount"
MONITORING_DAY = "overdue.monitoring_day_of_month"
INVALID_CASES = [
    # (key changed, new value, field named in the error, part of the reason)
    (W_BELOW, "1.20", W_BELOW, "less than or equal to 1"),
    (MIN_SHARE, "-0.1", MIN_SHARE, "greater than or equal to 0"),
    (
        "volume_completion.suspend_below",
        "0.85",
        "volume_completion",
        "suspend_below (0.85) must not exceed warning_below (0.80)",
    ),
    ("overdue.grace_working_days", -1, "overdue.grace_working_days", "greater than or equal to 0"),
    ("payment_term.rule", "net_60", "payment_term.rule", "'net_60'"),
    ("payment_term.days", DELETE, "payment_term", "needs 'days'"),
    ("payment_term.rule", "end_of_month_after_acceptance", "payment_term", "takes no 'days'"),
    # 红冲 restarting the clock only means something where the clock counts from invoice receipt
    ("payment_term.rule", "acceptance_plus_days", "payment_term", "'credit_note_restarts_clock' needs a rule counting from invoice receipt"),
    ("overdue.warning_schedule", "monthly_monitoring", "overdue", "monitoring_day_of_month"),
    (MONITORING_DAY, 31, MONITORING_DAY, "less than or equal to 28"),
    ("overdue.grace_workdays", 10, "overdue.grace_workdays", "Extra inputs are not permitted"),
    ("overdue", DELETE, "overdue", "Field required"),
    ("timezone", "UTC", "timezone", "'Asia/Shanghai'"),
    ("version", 0, "version", "greater than or equal to 1"),
    ("profile_id", "Guizhou 2020", "profile_id", "pattern"),
]


@pytest.mark.parametrize(("dotted", "value", "field", "reason"), INVALID_CASES)
def test_invalid_profiles_are_refused_naming_file_field_and_reason(dotted: str, value: Any, field: str, reason: str) -> None:
    with pytest.raises(PolicyFileError) as caught:
        parse_profile(_set(_guizhou_data(), dotted, value), "profiles/guizhou-2020.toml")
    problems = caught.value.problems
    assert any(f == field and reason in r for f, r in problems), problems
    assert f"profiles/guizhou-2020.toml: {field}: " in str(caught.value)


def test_invalid_profile_files_are_refused() -> None:
    not_toml = DATA / "invalid-profiles" / "not-toml.toml"
    with pytest.raises(PolicyFileError, match=r"not-toml\.toml: <file>: not valid TOML"):
        load_profile_file(not_toml)
    out_of_range = DATA / "invalid-profiles" / "ratio-out-of-range.toml"
    with pytest.raises(PolicyFileError) as caught:
        load_profile_file(out_of_range)
    assert caught.value.path == out_of_range
    assert caught.value.problems == (("volume_completion.warning_below", "Input should be less than or equal to 1 (got '1.5')"),)


def test_a_policy_directory_with_an_invalid_profile_is_refused() -> None:
    with pytest.raises(PolicyFileError, match=r"guizhou-2020.toml: overdue.grace_working_days: "):
        load_policy_book(DATA / "policy-dir-invalid")


def test_regions_naming_a_missing_profile_version_are_refused() -> None:
    with pytest.raises(
        PolicyFileError,
        match=r"regions.toml: assignment.0.profile_id: no profile 'guizhou-2020' version 2",
    ):
        load_policy_book(DATA / "policy-dir-unknown-profile")


def test_missing_policy_directory_is_refused() -> None:
    with pytest.raises(PolicyFileError, match="policy directory does not exist"):
        load_policy_book(DATA / "no-such-directory")
