"""The pure fold of policy changes over the packaged book, and the writer's decisions (jicai_policy.changes)."""
from __future__ import annotations

from datetime import date

import pytest

from jicai_policy import YearCalendar, load_policy_book
from jicai_policy.changes import (
    CalendarYearAdded,
    ChangeConflicts,
    ChangeRefused,
    GoLiveSet,
    RegionAssigned,
    decide_assignment,
    decide_calendar_year,
    decide_go_live,
    fold,
)
from jicai_policy.errors import NoProfileForRegion

BASE = load_policy_book(calendar_overrides=())
BEIJING = RegionAssigned("e-bj", "110100", "北京市", "guizhou-2020", 1, date(2026, 1, 1), "test notice")
R3_GUIYANG = GoLiveSet("e-r3", "520100", "volume_completion_from", date(2026, 7, 1), "every acceptance since 2026-01-01 is held")
YEAR_2027 = YearCalendar(2027, "test schedule", frozenset({date(2027, 1, 1)}), frozenset())


def test_nothing_folded_is_the_packaged_book_with_file_origins() -> None:
    folded = fold(BASE, [])
    assert folded.skipped == ()
    guiyang = folded.book.entry_for("520100", date(2026, 9, 1))
    assert (guiyang.origin, guiyang.go_live_origin("non_winning_cap_from"), guiyang.go_live_origin("volume_completion_from")) == (
        "regions.toml", "regions.toml", None)


def test_an_assigned_region_follows_its_profile_from_the_day_named_with_the_event_as_origin() -> None:
    book = fold(BASE, [BEIJING]).book
    with pytest.raises(NoProfileForRegion):
        book.entry_for("110100", date(2025, 12, 31))
    entry = book.entry_for("110100", date(2026, 1, 1))
    assert (entry.profile_id, entry.version, entry.origin, entry.source) == ("guizhou-2020", 1, "event:e-bj", "test notice")
    with pytest.raises(NoProfileForRegion):
        BASE.entry_for("110100", date(2026, 1, 1))  # the base book is not changed


def test_a_new_assignment_of_a_region_keeps_its_earlier_go_lives() -> None:
    later = RegionAssigned("e-gz2", "520100", "贵阳市", "guizhou-2020", 1, date(2028, 1, 1), "a later notice")
    book = fold(BASE, [later]).book
    entry = book.entry_for("520100", date(2028, 3, 1))
    assert (entry.origin, entry.non_winning_cap_from) == ("event:e-gz2", date(2020, 4, 14))
    assert book.entry_for("520100", date(2026, 3, 1)).origin == "regions.toml"


def test_a_go_live_applies_to_the_whole_region_and_a_withdrawal_falls_back_to_the_file() -> None:
    book = fold(BASE, [R3_GUIYANG]).book
    for on in (date(2020, 5, 1), date(2026, 9, 30)):
        entry = book.entry_for("520100", on)
        assert (entry.volume_completion_from, entry.go_live_origin("volume_completion_from")) == (date(2026, 7, 1), "event:e-r3")
    assert book.entry_for("520200", date(2026, 9, 30)).volume_completion_from is None  # another region
    withdrawn = GoLiveSet("e-w", "520100", "volume_completion_from", None, "not yet")
    assert fold(BASE, [R3_GUIYANG, withdrawn]).book.entry_for("520100", date(2026, 9, 30)).volume_completion_from is None
    moved = GoLiveSet("e-m", "520100", "non_winning_cap_from", date(2027, 1, 1), "later")
    assert fold(BASE, [moved]).book.entry_for("520100", date(2026, 9, 30)).non_winning_cap_from == date(2027, 1, 1)


def test_the_order_of_changes_decides_and_a_go_live_before_the_region_is_assigned_still_applies_once_it_is() -> None:
    bj_r4 = GoLiveSet("e-r4", "110100", "non_winning_cap_from", date(2026, 2, 1), "cap from February")
    book = fold(BASE, [bj_r4, BEIJING]).book
    assert book.entry_for("110100", date(2026, 3, 1)).non_winning_cap_from == date(2026, 2, 1)


def test_a_calendar_year_is_added_and_one_covered_with_other_days_is_skipped_with_the_reason() -> None:
    folded = fold(BASE, [CalendarYearAdded("e-cal", YEAR_2027)])
    assert folded.book.calendar.covers(2027) and not folded.book.calendar.is_working_day(date(2027, 1, 1))
    other = YearCalendar(2027, "other", frozenset({date(2027, 1, 4)}), frozenset())
    again = fold(BASE, [CalendarYearAdded("e-cal", YEAR_2027), CalendarYearAdded("e-other", other)])
    assert again.book.calendar.is_working_day(date(2027, 1, 4))
    assert [event for event, _ in again.skipped] == ["e-other"]


def test_a_change_naming_a_profile_this_deployment_lacks_is_skipped_not_fatal() -> None:
    unknown = RegionAssigned("e-x", "110100", "北京市", "beijing-2030", 1, date(2026, 1, 1), "a profile not shipped here")
    folded = fold(BASE, [unknown])
    assert "110100" not in {code for code, entries in folded.book.regions.items() if entries}
    assert folded.skipped == (("e-x", "profile beijing-2030 version 1 is not in this deployment's profiles"),)


def test_the_writer_records_an_assignment_once_and_refuses_what_decisions_were_taken_with() -> None:
    assert decide_assignment(BASE, BEIJING, closed_through=date(2026, 11, 1)) is True  # a region new to the platform
    book = fold(BASE, [BEIJING]).book
    assert decide_assignment(book, BEIJING, None) is False
    with pytest.raises(ChangeConflicts):
        decide_assignment(book, RegionAssigned("e", "110100", "北京市", "hubei-2019", 1, date(2026, 1, 1), "x"), None)
    with pytest.raises(ChangeRefused) as refused:
        decide_assignment(book, RegionAssigned("e", "110100", "北京市", "hubei-2019", 1, date(2026, 6, 1), "x"), date(2026, 6, 1))
    assert refused.value.field == "effective_from"
    with pytest.raises(ChangeRefused) as unknown:
        decide_assignment(book, RegionAssigned("e", "110100", "北京市", "beijing-2030", 1, date(2027, 1, 1), "x"), None)
    assert unknown.value.field == "profile_id"


def test_the_writer_sets_a_go_live_not_reached_yet_for_a_profile_with_the_rule() -> None:
    assert decide_go_live(BASE, R3_GUIYANG, closed_through=date(2026, 6, 30)) is True
    book = fold(BASE, [R3_GUIYANG]).book
    assert decide_go_live(book, R3_GUIYANG, date(2026, 6, 30)) is False  # the same again
    assert decide_go_live(book, GoLiveSet("e", "520100", "volume_completion_from", None, "withdrawn"), date(2026, 6, 30)) is True
    with pytest.raises(ChangeConflicts):  # reached: decisions were taken with it
        decide_go_live(book, GoLiveSet("e", "520100", "volume_completion_from", None, "withdrawn"), date(2026, 7, 1))
    with pytest.raises(ChangeConflicts):  # R4 in Guiyang since 2020 (file)
        decide_go_live(BASE, GoLiveSet("e", "520100", "non_winning_cap_from", date(2027, 1, 1), "later"), date(2026, 1, 1))
    cases = [
        (GoLiveSet("e", "420100", "non_winning_cap_from", date(2027, 1, 1), "x"), None, "from"),  # Hubei has no [non_winning_cap]
        (GoLiveSet("e", "110100", "volume_completion_from", date(2027, 1, 1), "x"), None, "region_code"),  # no profile
        (GoLiveSet("e", "520200", "volume_completion_from", date(2026, 6, 30), "x"), date(2026, 6, 30), "from"),  # closed
        (GoLiveSet("e", "520200", "volume_completion_from", date(2019, 1, 1), "x"), None, "from"),  # before the region's profile
        (GoLiveSet("e", "520200", "volume_completion", date(2027, 1, 1), "x"), None, "rule"),
    ]
    for change, closed, field in cases:
        with pytest.raises(ChangeRefused) as refused:
            decide_go_live(BASE, change, closed)
        assert refused.value.field == field, change


def test_the_writer_loads_a_calendar_year_once() -> None:
    assert decide_calendar_year(BASE, YEAR_2027) is True
    book = fold(BASE, [CalendarYearAdded("e", YEAR_2027)]).book
    assert decide_calendar_year(book, YEAR_2027) is False
    with pytest.raises(ChangeConflicts, match="covered already"):
        decide_calendar_year(book, YearCalendar(2027, "other", frozenset(), frozenset()))
    with pytest.raises(ChangeConflicts, match="chinesecalendar"):
        decide_calendar_year(BASE, YearCalendar(2026, "other", frozenset(), frozenset()))
