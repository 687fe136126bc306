"""Our copies of the contracts service's reference data: generic groups and products.

The contracts service owns these facts; orders keeps the latest it was told
(the owner's word wins), and a repeated identical fact records nothing.
Purchases are converted to base units and flagged winning or not with them.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from jicai_orders.domain.events import GenericGroupRecorded, ProductRecorded

Told = TypeVar("Told", GenericGroupRecorded, ProductRecorded)


@dataclass(frozen=True)
class ProductView:
    """What a purchase needs to know of a product."""

    product_id: str
    winning: bool
    generic_group_id: str | None
    base_units_per_trading_unit: Decimal | None


def record(history: Sequence[Told], told: Told) -> list[Told]:
    """Decide: remember ``told`` unless it is what is remembered already."""
    if history and history[-1] == told:
        return []
    return [told]
