"""Volume allocation: exact totals, the notices' three methods, counties (given bases / when / then)."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jicai_contracts.domain.allocation import AllocationMethod, Basis, decompose, largest_remainder
from jicai_events.rules import RuleViolated


def test_parts_add_up_exactly_and_leftover_units_go_to_the_largest_remainders() -> None:
    # quotas 3.333.. each: one unit left over goes to the largest remainder, ties to the smaller id
    assert largest_remainder(10, {"B": 1, "A": 1, "C": 1}) == {"A": 4, "B": 3, "C": 3}
    # quotas 1.6 / 3.2 / 5.2 → floors 1/3/5, the leftover unit goes to 0.6
    assert largest_remainder(10, {"x": 16, "y": 32, "z": 52}) == {"x": 2, "y": 3, "z": 5}


@given(total=st.integers(0, 10**7), weights=st.dictionaries(st.text(min_size=1, max_size=4), st.integers(0, 10**6), min_size=1, max_size=30))
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
