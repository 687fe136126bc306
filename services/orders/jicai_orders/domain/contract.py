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


def mismatch(contract: ContractView, product_id: str | None, unit_price: Decimal | None) -> tuple[str, str] | None:
    """(field, reason) when a line states a product or price other than the contract's, else None.

    Deliveries go at the winning price of the contracted product; nobody may
    re-bargain it (Chongqing 004 §二(四)). Both fields are optional: a line
    that states neither is priced from the contract.
    """
    if product_id is not None and product_id != contract.product_id:
        return "product_id", f"product_id {product_id} is not the product {contract.product_id} of contract {contract.contract_id}"
    if unit_price is not None and unit_price != contract.unit_price:
        return "unit_price", (
            f"unit_price {unit_price} is not the winning price {contract.unit_price} of contract {contract.contract_id}"
        )
    return None
