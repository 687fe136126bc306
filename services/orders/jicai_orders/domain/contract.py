"""Our copy of a signed contract (带量购销合同): what acceptances are checked against.

The contracts service owns the fact; orders keeps the latest terms it was
told. A repeated identical ContractSigned records nothing; different terms
for the same contract (never sent today: the contracts service refuses to
re-sign) would be recorded as the newer terms, the owner's word winning.
Acceptances already recorded keep the price they were recorded at.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_orders.domain.events import ContractRecorded


@dataclass(frozen=True)
class ContractView:
    contract_id: str
    institution_id: str
    pooling_region_code: str
    distributor_id: str
    manufacturer_id: str
    product_id: str
    unit_price: Decimal
    agreed_quantity: int
    cycle_start: date
    cycle_end: date


def record(history: Sequence[ContractRecorded], told: ContractRecorded) -> list[ContractRecorded]:
    """Decide: remember the terms in ``told`` unless they are the ones remembered already."""
    if history and history[-1] == told:
        return []
    return [told]
