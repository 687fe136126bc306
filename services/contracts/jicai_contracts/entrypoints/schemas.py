"""Request and response bodies of the contracts API."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from jicai_events.catalog.contracts import BaseUnitsPerTradingUnit
from jicai_events.types import Identifier, Quantity, UnitPrice

REGION_CODE = Field(pattern=r"^\d{6}$", description="6-digit administrative division code")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InstitutionIn(Strict):
    """医疗机构 registration."""

    institution_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="统筹区 code, e.g. 520100 (贵阳市)")
    county_code: str = Field(pattern=r"^\d{6}$", description="县/区 code")


class PartyIn(Strict):
    party_id: Identifier
    name: str = Field(min_length=1, max_length=200)


class WinningProductIn(Strict):
    """中选药品: generic name + dosage form + specification + manufacturer, at the winning price."""

    product_id: Identifier
    batch_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_id: Identifier
    winning_unit_price: UnitPrice
    trading_unit: str = Field(min_length=1, max_length=20)
    generic_group_id: Identifier | None = Field(None, description="the generic group (同通用名/评审组); the group must be defined")
    base_units_per_trading_unit: BaseUnitsPerTradingUnit | None = Field(
        None, description="base units of the group in one trading unit (a box of 20mg*7片 holds 7 片); required with generic_group_id"
    )


class GenericGroupIn(Strict):
    """同通用名 / 评审组: winning and non-winning products that substitute for each other."""

    group_id: Identifier
    batch_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    base_unit: str = Field(min_length=1, max_length=20, description="the unit quantities compare in, e.g. 片, 支")


class NonWinningProductIn(Strict):
    """非中选药品 of a generic group: may be bought beyond the agreed volume, within limits (R4)."""

    product_id: Identifier
    generic_group_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_name: str = Field(min_length=1, max_length=200)
    base_units_per_trading_unit: BaseUnitsPerTradingUnit
    reference_unit_price: UnitPrice | None = None


class ContractIn(Strict):
    """带量购销合同: institution × manufacturer × distributor × product, at the winning price."""

    contract_id: Identifier
    institution_id: Identifier
    manufacturer_id: Identifier
    distributor_id: Identifier
    product_id: Identifier
    unit_price: UnitPrice
    agreed_quantity: Quantity = Field(gt=0, description="约定采购量 in trading units")
    cycle_start: date
    cycle_end: date
    signed_on: date


class Recorded(BaseModel):
    id: str
    created: bool = Field(description="false when the request repeated an identical earlier one")


class AllocationBasisIn(Strict):
    institution_id: Identifier
    quantity: Quantity = Field(description="reported demand, last year's platform purchases, or last year's use, by method")


class AllocationIn(Strict):
    """任务量分解: decompose a product's agreed volume to institutions; a draft until approved."""

    allocation_id: Identifier
    product_id: Identifier
    agreement_year: int = Field(ge=2015, le=2100)
    method: Literal["reported_demand_ratio", "share_of_platform_purchases", "percent_of_last_year_use"]
    total: Quantity | None = Field(None, description="the volume to split (share_of_platform_purchases)")
    ratio: Decimal | None = Field(None, gt=0, le=1, max_digits=6, decimal_places=4,
                                  description="allocation ratio or share of last year's use (the other two methods)")
    group_by_county: bool = Field(False, description="primary care grouped by county (Hubei 003 §四(一))")
    bases: list[AllocationBasisIn] = Field(min_length=1, max_length=10000)


class ApprovalIn(Strict):
    approved_on: date
