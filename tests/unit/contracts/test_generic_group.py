"""Generic groups and the products listed in them (given the product's stream and its group / when listed / then events)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import GenericGroupDefined, NonWinningProductListed, WinningProductListed
from jicai_contracts.domain.generic_group import GroupTerms, define, list_non_winning, list_winning

GROUP = GroupTerms(group_id="G1", batch_id="GJ-2", generic_name="阿托伐他汀钙片", dosage_form="片剂")
DEFINED = GenericGroupDefined(group_id="G1", batch_id="GJ-2", generic_name="阿托伐他汀钙片", dosage_form="片剂", base_unit="片")


def _winning(**changes: object) -> WinningProductListed:
    values: dict[str, object] = dict(
        product_id="P1", batch_id="GJ-2", generic_name="阿托伐他汀钙片", dosage_form="片剂", specification="20mg*7片",
        manufacturer_id="M1", winning_unit_price=Decimal("1.98"), trading_unit="盒", generic_group_id="G1",
        base_units_per_trading_unit=Decimal("7"),
    )
    values.update(changes)
    return WinningProductListed(**values)  # type: ignore[arg-type]


def _non_winning(**changes: object) -> NonWinningProductListed:
    values: dict[str, object] = dict(
        product_id="NW1", generic_group_id="G1", generic_name="阿托伐他汀钙片", dosage_form="片剂", specification="20mg*14片",
        manufacturer_name="某原研药企", base_units_per_trading_unit=Decimal("14"), reference_unit_price=Decimal("60.5"),
    )
    values.update(changes)
    return NonWinningProductListed(**values)  # type: ignore[arg-type]


def test_a_group_is_defined_once() -> None:
    assert define([], DEFINED) == [DEFINED]
    assert define([DEFINED], DEFINED) == []
    with pytest.raises(AlreadyExists):
        define([DEFINED], DEFINED.model_copy(update={"base_unit": "粒"}))


def test_products_in_their_group_are_listed_and_without_a_group_as_before() -> None:
    assert list_winning([], _winning(), GROUP) == [_winning()]
    ungrouped = _winning(generic_group_id=None, base_units_per_trading_unit=None)
    assert list_winning([], ungrouped, None) == [ungrouped]
    assert list_non_winning([], _non_winning(), GROUP) == [_non_winning()]
    assert list_non_winning([_non_winning()], _non_winning(), GROUP) == []


def test_a_product_id_is_winning_or_non_winning_never_both() -> None:
    with pytest.raises(AlreadyExists):
        list_non_winning([_winning()], _non_winning(product_id="P1"), GROUP)


@pytest.mark.parametrize(
    ("event", "group", "field"),
    [
        (_winning(), None, "generic_group_id"),
        (_winning(generic_group_id=None), None, "generic_group_id"),
        (_winning(generic_name="瑞舒伐他汀钙片"), GROUP, "generic_name"),
        (_winning(dosage_form="胶囊"), GROUP, "dosage_form"),
        (_winning(batch_id="GJ-3"), GROUP, "batch_id"),
        (_winning(base_units_per_trading_unit=None), GROUP, "base_units_per_trading_unit"),
        (_non_winning(), None, "generic_group_id"),
        (_non_winning(dosage_form="胶囊"), GROUP, "dosage_form"),
    ],
)
def test_a_product_that_does_not_fit_its_group_is_refused_naming_the_field(
    event: WinningProductListed | NonWinningProductListed, group: GroupTerms | None, field: str
) -> None:
    with pytest.raises(DomainRuleViolated) as refused:
        if isinstance(event, WinningProductListed):
            list_winning([], event, group)
        else:
            list_non_winning([], event, group)
    assert refused.value.field == field
