"""Batch cycles (采购周期) from the region's profile, table-driven over the five profiles' toml files."""
from __future__ import annotations

from datetime import date

import pytest

from jicai_contracts.domain.batch import ExtendCycle, LineIn, PublishBatch, check_contract_cycle, extend, line_for, publish, years_end
from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import BatchCycleExtended, BatchPublished
from jicai_policy import PolicyBook, load_policy_book

START = date(2026, 1, 1)
HUBEI, GUIZHOU, SHANDONG, CHONGQING, LIANGJIANG = "420100", "520100", "370100", "500000", "500099"


@pytest.fixture(scope="module")
def book() -> PolicyBook:
    return load_policy_book(calendar_overrides=())


def _batch(region: str, *lines: LineIn) -> PublishBatch:
    return PublishBatch("GJ-2", "第二批国家组织药品集中采购", region, START, lines)


@pytest.mark.parametrize(
    ("region", "winners", "stated", "years"),
    [
        (HUBEI, 1, None, 1),  # 003 §二(三): 不超过2家（含）→ 1 年
        (HUBEI, 2, None, 1),
        (HUBEI, 3, None, 2),  # 3 家 → 2 年
        (HUBEI, 3, 2, 2),  # stating the same length is fine
        (GUIZHOU, 1, 1, 1),  # 000 §四(三): 原则上 1—3 年, the batch says how long
        (GUIZHOU, 5, 3, 3),
        (SHANDONG, 2, 2, 2),  # no cycle rule in 001: the batch's own length is taken
        (CHONGQING, 3, 1, 1),  # none in 004 either
        (LIANGJIANG, 4, 3, 3),  # nor in 002
    ],
)
def test_a_lines_cycle_comes_from_the_profile_of_the_batch_region(
    book: PolicyBook, region: str, winners: int, stated: int | None, years: int
) -> None:
    profile = book.profile_for(region, START)
    [event] = publish([], _batch(region, LineIn("G1", None, winners, stated)), profile)
    assert isinstance(event, BatchPublished) and (event.profile_id, event.profile_version) == (profile.profile_id, profile.version)
    [line] = event.lines
    assert (line.cycle_years, line.cycle_end) == (years, date(2026 + years - 1, 12, 31))


@pytest.mark.parametrize(
    ("region", "winners", "stated", "reason"),
    [
        (HUBEI, 3, 1, "3 winning companies give a 2-year cycle"),  # 003 §二(三)
        (HUBEI, 4, None, "go up to 3"),
        (GUIZHOU, 2, None, "state cycle_years: 1 to 3 years"),  # 000 §四(三)
        (GUIZHOU, 2, 4, "must be 1 to 3 years"),
        (SHANDONG, 2, None, "must state cycle_years"),
        (LIANGJIANG, 2, None, "must state cycle_years"),
    ],
)
def test_a_cycle_outside_the_profile_rules_is_refused_naming_the_line(
    book: PolicyBook, region: str, winners: int, stated: int | None, reason: str
) -> None:
    with pytest.raises(DomainRuleViolated) as err:
        publish([], _batch(region, LineIn(None, "P0", 1, 1), LineIn("G1", None, winners, stated)), book.profile_for(region, START))
    assert err.value.field == "lines[1].cycle_years" and reason in err.value.reason


def test_a_line_names_a_group_or_a_product_not_both_and_not_twice(book: PolicyBook) -> None:
    profile = book.profile_for(HUBEI, START)
    with pytest.raises(DomainRuleViolated) as both:
        publish([], _batch(HUBEI, LineIn("G1", "P1", 2)), profile)
    with pytest.raises(DomainRuleViolated) as twice:
        publish([], _batch(HUBEI, LineIn("G1", None, 2), LineIn("G1", None, 3)), profile)
    assert (both.value.field, twice.value.field) == ("lines[0]", "lines")


def test_the_same_batch_again_records_nothing_and_a_different_one_is_refused(book: PolicyBook) -> None:
    profile = book.profile_for(HUBEI, START)
    history = publish([], _batch(HUBEI, LineIn("G1", None, 2)), profile)
    assert publish(history, _batch(HUBEI, LineIn("G1", None, 2)), profile) == []
    with pytest.raises(AlreadyExists):
        publish(history, _batch(HUBEI, LineIn("G1", None, 3)), profile)


def test_a_product_follows_its_own_line_before_its_groups() -> None:
    [event] = publish([], _batch(SHANDONG, LineIn("G1", None, 2, 1), LineIn(None, "P2", 3, 2)), load_policy_book().profile_for(SHANDONG, START))
    assert isinstance(event, BatchPublished)
    assert line_for(event.lines, "P2", "G1").cycle_years == 2  # type: ignore[union-attr]
    assert line_for(event.lines, "P1", "G1").cycle_years == 1  # type: ignore[union-attr]
    assert line_for(event.lines, "P3", None) is None


def test_a_contract_must_run_over_its_batch_lines_cycle() -> None:
    [event] = publish([], _batch(HUBEI, LineIn("G1", None, 3)), load_policy_book().profile_for(HUBEI, START))
    assert isinstance(event, BatchPublished)
    line = event.lines[0]
    check_contract_cycle("GJ-2", START, line, START, date(2027, 12, 31))
    for start, end, field in ((START, date(2026, 12, 31), "cycle_end"), (date(2026, 2, 1), date(2027, 12, 31), "cycle_start")):
        with pytest.raises(DomainRuleViolated) as err:
            check_contract_cycle("GJ-2", START, line, start, end)
        assert err.value.field == field
    with pytest.raises(DomainRuleViolated) as missing:
        check_contract_cycle("GJ-2", START, None, START, date(2027, 12, 31))
    assert missing.value.field == "product_id"


def test_hubei_extends_a_cycle_by_one_year_at_most(book: PolicyBook) -> None:
    """003 §二(三): 采购周期视实际情况可延长一年."""
    rules = book.profile_for(HUBEI, START).cycle
    history = publish([], _batch(HUBEI, LineIn("G1", None, 2), LineIn("G3", None, 3)), book.profile_for(HUBEI, START))
    cmd = ExtendCycle("GJ-2", "X1", 1, date(2026, 11, 20), "供应稳定，延长一年", generic_group_id="G1")
    [extension] = extend(history, cmd, rules)
    assert isinstance(extension, BatchCycleExtended)
    assert [(line.generic_group_id, line.cycle_years, line.cycle_end) for line in extension.lines] == [("G1", 2, date(2027, 12, 31))]
    history = [*history, extension]
    assert extend(history, cmd, rules) == []  # the same extension again
    with pytest.raises(AlreadyExists):
        extend(history, ExtendCycle("GJ-2", "X1", 1, date(2026, 11, 21), "改期", generic_group_id="G1"), rules)
    with pytest.raises(DomainRuleViolated) as twice:
        extend(history, ExtendCycle("GJ-2", "X2", 1, date(2026, 11, 20), "再延长", generic_group_id="G1"), rules)
    assert twice.value.field == "years" and "already extended by 1" in twice.value.reason
    with pytest.raises(DomainRuleViolated) as unknown:
        extend(history, ExtendCycle("GJ-2", "X3", 1, date(2026, 11, 20), "?", product_id="P9"), rules)
    assert unknown.value.field == "product_id"


@pytest.mark.parametrize("region", [GUIZHOU, SHANDONG, CHONGQING, LIANGJIANG])
def test_profiles_without_extendable_years_do_not_extend(book: PolicyBook, region: str) -> None:
    profile = book.profile_for(region, START)
    history = publish([], _batch(region, LineIn("G1", None, 2, 1)), profile)
    with pytest.raises(DomainRuleViolated) as err:
        extend(history, ExtendCycle("GJ-2", "X1", 1, date(2026, 11, 20), "延长"), profile.cycle)
    assert err.value.field == "years"


def test_a_cycle_from_29_february_ends_on_28_february() -> None:
    assert years_end(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert years_end(date(2026, 3, 1), 2) == date(2028, 2, 29)
