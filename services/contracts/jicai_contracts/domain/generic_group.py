"""Generic groups (同通用名 / 评审组) and the products listed in them.

A group holds winning and non-winning products that substitute for each
other; their quantities compare in the group's base unit (片, 支), so each
product says how many base units one trading unit holds (a box "20mg*7片"
holds 7). A product named in a group must fit the group's terms: same
generic name and dosage form, and for a winning product the same batch.

Listing the same thing twice with the same content is a harmless retry; a
product id is either winning or non-winning, never both (one stream each).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from jicai_contracts.domain import parties
from jicai_contracts.domain.errors import DomainRuleViolated
from jicai_contracts.domain.events import ContractsEvent, GenericGroupDefined, NonWinningProductListed, WinningProductListed


def product_stream(product_id: str) -> str:
    """Winning and non-winning products share one stream per id, so an id is never both."""
    return f"product-{product_id}"


@dataclass(frozen=True)
class GroupTerms:
    group_id: str
    batch_id: str
    generic_name: str
    dosage_form: str


def define(history: Sequence[ContractsEvent], event: GenericGroupDefined) -> list[ContractsEvent]:
    """Decide: define a generic group; the same definition again records nothing."""
    return parties.register(history, event)


def list_winning(history: Sequence[ContractsEvent], event: WinningProductListed, group: GroupTerms | None) -> list[ContractsEvent]:
    """Decide: list a winning product, checked against its generic group when it names one."""
    if event.generic_group_id is None:
        if event.base_units_per_trading_unit is not None:
            raise DomainRuleViolated("generic_group_id", "is required with base_units_per_trading_unit")
    else:
        _fits(event.generic_group_id, group, event.generic_name, event.dosage_form, event.base_units_per_trading_unit)
        assert group is not None
        if group.batch_id != event.batch_id:
            raise DomainRuleViolated("batch_id", f"must be the batch {group.batch_id} of generic group {group.group_id}")
    return parties.register(history, event)


def list_non_winning(
    history: Sequence[ContractsEvent], event: NonWinningProductListed, group: GroupTerms | None
) -> list[ContractsEvent]:
    """Decide: list a non-winning product (非中选) of a generic group."""
    _fits(event.generic_group_id, group, event.generic_name, event.dosage_form, event.base_units_per_trading_unit)
    return parties.register(history, event)


def _fits(group_id: str, group: GroupTerms | None, generic_name: str, dosage_form: str, factor: Decimal | None) -> None:
    if group is None:
        raise DomainRuleViolated("generic_group_id", f"generic group {group_id} is not defined")
    if generic_name != group.generic_name:
        raise DomainRuleViolated("generic_name", f"must be the generic name {group.generic_name} of generic group {group_id}")
    if dosage_form != group.dosage_form:
        raise DomainRuleViolated("dosage_form", f"must be the dosage form {group.dosage_form} of generic group {group_id}")
    if factor is None:
        raise DomainRuleViolated("base_units_per_trading_unit", f"is required for a product of generic group {group_id}")
    if factor <= 0:
        raise DomainRuleViolated("base_units_per_trading_unit", "must be above 0")
