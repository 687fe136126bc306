"""Volume allocation: exact totals, the notices' three methods, counties (given bases / when / then)."""
from __future__ import annotations

import string
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jicai_contracts.domain.allocation import AllocationMethod, Basis, DraftAllocation, approve, decompose, draft, largest_remainder
from jicai_contracts.domain.events import VolumeAllocationApproved, VolumeAllocationDrafted
from jicai_events.rules import RuleViolated
from jicai_policy import load_policy_book


def test_parts_add_up_exactly_and_leftover_units_go_to_the_largest_remainders() -> None:
    # quotas 3.333.. each: one unit left over goes to the largest remainder, ties to the smaller id
    assert largest_remainder(10, {"B": 1, "A": 1, "C": 1}) == {"A": 4, "B": 3, "C": 3}
    # quotas 1.6 / 3.2 / 5.2 → floors 1/3/5, the leftover unit goes to 0.6
    assert largest_remainder(10, {"x": 16, "y": 32, "z": 52}) == {"x": 2, "y": 3, "z": 5}


# Institution ids of letters and digits, as the platform's are: a text strategy over all of Unicode first builds
# Hypothesis's table of the characters UTF-8 can encode (3 s in every process of a fresh checkout).
IDS = st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=4)


@given(total=st.integers(0, 10**7), weights=st.dictionaries(IDS, st.integers(0, 10**6), min_size=1, max_size=30))
def test_every_split_is_exact_and_within_a_unit_of_its_quota(total: int, weights: dict[str, int]) -> None:
    if sum(weights.values()) == 0:
        return
    parts = largest_remainder(total, weights)
    assert sum(parts.values()) == total
    weight_sum = sum(weights.values())
    for key, part in parts.items():
        assert abs(Decimal(part) - Decimal(total) * weights[key] / weight_sum) < 1


def test_shandong_reported_demand_times_the_allocation_ratio() -> None:
    bases = [Basis("H1", "370102", 1000), Basis("H2", "370102", 333), Basis("H3", "370103", 0)]
    # 1333 × 0.8 = 1066.4 → 1066 in all; H1 800, H2 266.4 → 266
    assert decompose(AllocationMethod.REPORTED_DEMAND_RATIO, bases, ratio=Decimal("0.8")) == {"H1": 800, "H2": 266, "H3": 0}


def test_guizhou_splits_a_given_total_by_share_of_last_years_platform_purchases() -> None:
    bases = [Basis("H1", "520102", 600), Basis("H2", "520111", 300), Basis("H3", "520111", 100)]
    assert decompose(AllocationMethod.SHARE_OF_PLATFORM_PURCHASES, bases, total=12001) == {"H1": 7201, "H2": 3600, "H3": 1200}


def test_chongqing_takes_a_percentage_of_last_years_use() -> None:
    bases = [Basis("H1", "500103", 10_000), Basis("H2", "500105", 2_501)]
    assert decompose(AllocationMethod.PERCENT_OF_LAST_YEAR_USE, bases, ratio=Decimal("0.65")) == {"H1": 6500, "H2": 1626}


def test_hubei_primary_care_is_allocated_by_county_first() -> None:
    bases = [Basis("C1", "420102", 1), Basis("C2", "420102", 1), Basis("C3", "420103", 1)]
    by_county = decompose(AllocationMethod.SHARE_OF_PLATFORM_PURCHASES, bases, total=5, group_by_county=True)
    assert sum(by_county.values()) == 5
    assert by_county["C1"] + by_county["C2"] in (3, 4) and by_county["C3"] in (1, 2)


@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
        (AllocationMethod.SHARE_OF_PLATFORM_PURCHASES, {"ratio": Decimal("0.5")}, "total"),
        (AllocationMethod.REPORTED_DEMAND_RATIO, {"total": 10}, "ratio"),
        (AllocationMethod.PERCENT_OF_LAST_YEAR_USE, {"ratio": Decimal("1.5")}, "ratio"),
    ],
)
def test_parameters_that_do_not_fit_the_method_are_refused(method: AllocationMethod, kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(RuleViolated) as err:
        decompose(method, [Basis("H1", "520102", 10)], **kwargs)  # type: ignore[arg-type]
    assert err.value.field == field


def test_nothing_to_allocate_by_is_refused() -> None:
    with pytest.raises(RuleViolated):
        decompose(AllocationMethod.SHARE_OF_PLATFORM_PURCHASES, [Basis("H1", "520102", 0)], total=10)
    with pytest.raises(RuleViolated):
        decompose(AllocationMethod.SHARE_OF_PLATFORM_PURCHASES, [Basis("H1", "520102", 5), Basis("H1", "520102", 5)], total=10)


# --- the region's profile decides the method and the county grouping (issue 3) ---

BOOK = load_policy_book()
JAN_1_2026 = date(2026, 1, 1)
BASES = (Basis("H1", "000001", 600), Basis("H2", "000002", 400))


def _draft(region: str, **changes: object) -> DraftAllocation:
    fields: dict[str, object] = {"allocation_id": "A1", "product_id": "P1", "agreement_year": 2026, "pooling_region_code": region,
                                 "bases": BASES, "ratio": Decimal("0.65")} | changes
    return DraftAllocation(**fields)  # type: ignore[arg-type]


def _parameters(method: AllocationMethod) -> dict[str, object]:
    return {"total": 1000, "ratio": None} if method is AllocationMethod.SHARE_OF_PLATFORM_PURCHASES else {}


# region, profile, the profile's method, the API method it stands for, primary care by county, notice section
PROFILES = [
    ("370100", "shandong-2021", "reported_demand_times_ratio", AllocationMethod.REPORTED_DEMAND_RATIO, False, "001_450b5b2068b38bb5.txt §一"),
    ("520100", "guizhou-2020", "share_of_platform_purchases", AllocationMethod.SHARE_OF_PLATFORM_PURCHASES, False, "000_0b8eb23f70a351bf.txt §五(一)"),
    ("500000", "chongqing-2019", "share_of_last_year_use", AllocationMethod.PERCENT_OF_LAST_YEAR_USE, False, "004_9f3f38a2952ba61f.txt §二(二)"),
    ("420100", "hubei-2019", "reported_demand", AllocationMethod.REPORTED_DEMAND_RATIO, True, "003_5bdb581359ce1a93.txt §四(一)"),
    ("500099", "chongqing-liangjiang-2023", "reported_demand", AllocationMethod.REPORTED_DEMAND_RATIO, False, "002_ebc7cb9ae90d6151.txt §三(一)"),
]


@pytest.mark.parametrize(("region", "profile_id", "profile_method", "method", "by_county", "source"), PROFILES)
def test_an_omitted_method_and_grouping_come_from_the_regions_profile_allocation_section(
    region: str, profile_id: str, profile_method: str, method: AllocationMethod, by_county: bool, source: str
) -> None:
    """Given the region's profile on 1 January 2026, when a draft names neither method nor grouping, then the profile's apply (notice ``source``)."""
    profile = BOOK.profile_for(region, JAN_1_2026)
    [event] = draft([], _draft(region, **_parameters(method)), profile)
    assert isinstance(event, VolumeAllocationDrafted)
    assert (event.profile_id, event.profile_version, event.pooling_region_code) == (profile_id, 1, region)
    assert (event.method, event.profile_method, event.group_by_county) == (method.value, profile_method, by_county)
    assert sum(line.allocated_quantity for line in event.lines) == (1000 if event.total else 650)
    assert profile.allocation is not None and source in profile.allocation.source


@pytest.mark.parametrize(("region", "profile_id", "profile_method", "method", "by_county", "source"), PROFILES)
def test_a_method_other_than_the_profiles_is_refused_naming_the_profiles_method_and_source(
    region: str, profile_id: str, profile_method: str, method: AllocationMethod, by_county: bool, source: str
) -> None:
    """Given the region's profile, when the operator states another method, then 422 on ``method`` citing the profile's method and notice section."""
    profile = BOOK.profile_for(region, JAN_1_2026)
    for other in set(AllocationMethod) - {method}:
        with pytest.raises(RuleViolated) as err:
            draft([], _draft(region, method=other, **_parameters(other)), profile)
        assert err.value.field == "method"
        assert profile_method in str(err.value) and source in str(err.value) and profile_id in str(err.value)
    # the profile's own method stated explicitly is the same draft as the derived one
    assert draft([], _draft(region, method=method, **_parameters(method)), profile) == draft([], _draft(region, **_parameters(method)), profile)


@pytest.mark.parametrize(("ratio", "accepted"), [("0.60", True), ("0.70", True), ("0.71", False), ("0.59", False)])
def test_chongqing_takes_60_to_70_percent_of_last_years_use_004_section_2_2(ratio: str, accepted: bool) -> None:
    """004 §二(二): the share of last year's use lies within the profile's 0.60..0.70, both ends included."""
    profile = BOOK.profile_for("500000", JAN_1_2026)
    cmd = _draft("500000", ratio=Decimal(ratio))
    if accepted:
        [event] = draft([], cmd, profile)
        assert isinstance(event, VolumeAllocationDrafted) and event.ratio == Decimal(ratio)
    else:
        with pytest.raises(RuleViolated) as err:
            draft([], cmd, profile)
        assert err.value.field == "ratio"
        assert "0.60..0.70" in str(err.value) and "004_9f3f38a2952ba61f.txt §二(二)" in str(err.value)


def test_other_profiles_do_not_bound_the_ratio_by_last_years_use() -> None:
    """Shandong 001 §一: the allocation ratio is the province's; the Chongqing bounds do not apply."""
    [event] = draft([], _draft("370100", ratio=Decimal("0.90")), BOOK.profile_for("370100", JAN_1_2026))
    assert isinstance(event, VolumeAllocationDrafted) and sum(line.allocated_quantity for line in event.lines) == 900


@pytest.mark.parametrize(("region", "profile_id", "profile_method", "method", "by_county", "source"), PROFILES)
def test_a_county_grouping_other_than_the_profiles_is_refused_hubei_003_section_4_1(
    region: str, profile_id: str, profile_method: str, method: AllocationMethod, by_county: bool, source: str
) -> None:
    """003 §四(一): Hubei groups primary care by county; no other profile does. Stating the profile's own grouping is accepted."""
    profile = BOOK.profile_for(region, JAN_1_2026)
    with pytest.raises(RuleViolated) as err:
        draft([], _draft(region, group_by_county=not by_county, **_parameters(method)), profile)
    assert err.value.field == "group_by_county" and source in str(err.value)
    [event] = draft([], _draft(region, group_by_county=by_county, **_parameters(method)), profile)
    assert isinstance(event, VolumeAllocationDrafted) and event.group_by_county is by_county


def test_hubei_splits_by_county_first_when_the_profile_says_so_003_section_4_1() -> None:
    """003 §四(一): 5 units over two institutions of one county and one of another, equal bases.

    By county first the counties get 3 and 2 (quotas 3.33/1.67), so C3 alone gets 2; split flat it would get 1 (quotas 1.67 each, ties to the smaller id).
    """
    bases = (Basis("C1", "420102", 2), Basis("C2", "420102", 2), Basis("C3", "420103", 2))
    [event] = draft([], _draft("420100", bases=bases, ratio=Decimal("0.8333")), BOOK.profile_for("420100", JAN_1_2026))
    assert isinstance(event, VolumeAllocationDrafted) and event.group_by_county is True
    assert {line.institution_id: line.allocated_quantity for line in event.lines} == {"C1": 2, "C2": 1, "C3": 2}


def test_a_profile_without_an_allocation_section_is_refused_naming_the_region() -> None:
    profile = BOOK.profile_for("520100", JAN_1_2026).model_copy(update={"allocation": None})
    with pytest.raises(RuleViolated) as err:
        draft([], _draft("520100", total=1000, ratio=None), profile)
    assert err.value.field == "pooling_region_code"


def test_approval_records_the_profile_the_draft_followed() -> None:
    [drafted] = draft([], _draft("500000"), BOOK.profile_for("500000", JAN_1_2026))
    [approved] = approve([drafted], "A1", date(2025, 12, 15))
    assert isinstance(approved, VolumeAllocationApproved)
    assert (approved.profile_id, approved.profile_version) == ("chongqing-2019", 1)
