"""Volume contracts (带量购销合同): signed at the winning price, never re-bargained.

Chongqing 004 §二(四): nobody may re-bargain the winning price, so a contract
price must equal the product's winning price exactly.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import ID_LENGTH, ContractsEvent, ContractSigned


@dataclass(frozen=True)
class ProductTerms:
    """What the contract must agree with: the listed winning product."""

    product_id: str
    manufacturer_id: str
    winning_unit_price: Decimal


@dataclass(frozen=True)
class SignContract:
    contract_id: str
    institution_id: str
    manufacturer_id: str
    distributor_id: str
    product_id: str
    unit_price: Decimal
    agreed_quantity: int
    cycle_start: date
    cycle_end: date
    signed_on: date


def sign(
    history: Sequence[ContractsEvent], cmd: SignContract, product: ProductTerms, pooling_region_code: str
) -> list[ContractsEvent]:
    """Decide: sign ``cmd`` against ``product`` for an institution of ``pooling_region_code``.

    A repeated identical signing records nothing.
    """
    event = ContractSigned(**cmd.__dict__, pooling_region_code=pooling_region_code)
    if history:
        if history[0] == event:
            return []
        raise AlreadyExists(f"contract {cmd.contract_id} is signed already with different terms")
    if product.manufacturer_id != cmd.manufacturer_id:
        raise DomainRuleViolated("manufacturer_id", f"product {product.product_id} is made by {product.manufacturer_id}")
    if cmd.unit_price != product.winning_unit_price:
        raise DomainRuleViolated(
            "unit_price", f"must equal the winning price {product.winning_unit_price} (no re-bargaining, 渝府办发〔2019〕29号 §二(四))"
        )
    if len(f"{cmd.contract_id}-y10") > ID_LENGTH:
        raise DomainRuleViolated("contract_id", f"at most {ID_LENGTH - 4} characters: its yearly agreements are named {{contract_id}}-y{{N}}")
    if cmd.cycle_end <= cmd.cycle_start:
        raise DomainRuleViolated("cycle_end", "must be after cycle_start")
    if cmd.agreed_quantity <= 0:
        raise DomainRuleViolated("agreed_quantity", "must be positive")
    return [event]
