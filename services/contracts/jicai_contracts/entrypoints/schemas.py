"""Request and response bodies of the contracts API."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from jicai_events.catalog.contracts import BaseUnitsPerTradingUnit
from jicai_events.types import Identifier, Quantity
from jicai_kit.validity import BusinessDate, Input, MoneyIn, UnitPriceIn, YearMonth, decimal_text

LAST_CYCLE_DAY = date(2100, 12, 31)
"""Cycles end by then (as allocation years do): agreement years and extensions are counted on from the dates."""
BaseUnitsPerTradingUnitIn = Annotated[BaseUnitsPerTradingUnit, BeforeValidator(decimal_text)]
"""As a JSON string, like every decimal of a request."""
REGION_CODE = Field(pattern=r"^[0-9]{6}$", description="6-digit administrative division code")


class InstitutionIn(Input):
    """医疗机构 registration."""

    institution_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    pooling_region_code: str = Field(pattern=r"^[0-9]{6}$", description="统筹区 code, e.g. 520100 (贵阳市)")
    county_code: str = Field(pattern=r"^[0-9]{6}$", description="县/区 code")


class PartyIn(Input):
    party_id: Identifier
    name: str = Field(min_length=1, max_length=200)


class WinningProductIn(Input):
    """中选药品: generic name + dosage form + specification + manufacturer, at the winning price."""

    product_id: Identifier
    batch_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_id: Identifier
    winning_unit_price: UnitPriceIn
    trading_unit: str = Field(min_length=1, max_length=20)
    generic_group_id: Identifier | None = Field(None, description="the generic group (同通用名/评审组); the group must be defined")
    base_units_per_trading_unit: BaseUnitsPerTradingUnitIn | None = Field(
        None, description="base units of the group in one trading unit (a box of 20mg*7片 holds 7 片); required with generic_group_id"
    )


class GenericGroupIn(Input):
    """同通用名 / 评审组: winning and non-winning products that substitute for each other."""

    group_id: Identifier
    batch_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    base_unit: str = Field(min_length=1, max_length=20, description="the unit quantities compare in, e.g. 片, 支")


class NonWinningProductIn(Input):
    """非中选药品 of a generic group: may be bought beyond the agreed volume, within limits (R4)."""

    product_id: Identifier
    generic_group_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_name: str = Field(min_length=1, max_length=200)
    base_units_per_trading_unit: BaseUnitsPerTradingUnitIn
    reference_unit_price: UnitPriceIn | None = None


class ContractIn(Input):
    """带量购销合同: institution × manufacturer × distributor × product, at the winning price."""

    contract_id: Identifier
    institution_id: Identifier
    manufacturer_id: Identifier
    distributor_id: Identifier
    product_id: Identifier
    unit_price: UnitPriceIn
    agreed_quantity: Quantity = Field(gt=0, description="约定采购量 in trading units")
    cycle_start: BusinessDate = Field(le=LAST_CYCLE_DAY)
    cycle_end: BusinessDate = Field(le=LAST_CYCLE_DAY)
    signed_on: BusinessDate




class AllocationBasisIn(Input):
    institution_id: Identifier
    quantity: Quantity = Field(description="reported demand, last year's platform purchases, or last year's use, by method")


class AllocationIn(Input):
    """任务量分解: decompose a product's agreed volume to institutions; a draft until approved."""

    allocation_id: Identifier
    product_id: Identifier
    agreement_year: int = Field(ge=2015, le=2100)
    pooling_region_code: str = Field(pattern=r"^[0-9]{6}$", description="统筹区 whose profile (in force on 1 January of agreement_year) decides")
    method: Literal["reported_demand_ratio", "share_of_platform_purchases", "percent_of_last_year_use"] | None = Field(
        None, description="omitted: the profile's; reported_demand_ratio stands for reported_demand_times_ratio and reported_demand")
    total: Quantity | None = Field(None, description="the volume to split (share_of_platform_purchases)")
    ratio: Annotated[Decimal, BeforeValidator(decimal_text)] | None = Field(None, gt=0, le=1, max_digits=6, decimal_places=4,
                                  description="allocation ratio, share of the reported volume, or share of last year's use (within the profile's bounds)")
    group_by_county: bool | None = Field(None, description="primary care grouped by county (Hubei 003 §四(一)); omitted: the profile's")
    bases: list[AllocationBasisIn] = Field(min_length=1, max_length=10000)


class ApprovalIn(Input):
    approved_on: BusinessDate


class BatchLineIn(Input):
    """A generic group or a product of the batch, with its number of winning companies (中选企业数)."""

    generic_group_id: Identifier | None = None
    product_id: Identifier | None = None
    winner_count: int = Field(ge=1, le=100)
    cycle_years: int | None = Field(None, ge=1, le=10, description="where the profile lets the batch choose (Guizhou: 1–3 years); "
                                                                    "otherwise it follows from winner_count")


class BatchIn(Input):
    """采购批次: the cycle of each of its generic groups or products comes from the region's profile (Hubei 003 §二(三))."""

    batch_id: Identifier
    title: str = Field(min_length=1, max_length=200)
    pooling_region_code: str = Field(pattern=r"^[0-9]{6}$", description="统筹区 whose profile gives the cycle rules, e.g. 420100")
    cycle_start: BusinessDate = Field(le=LAST_CYCLE_DAY)
    lines: list[BatchLineIn] = Field(min_length=1, max_length=1000)


class CycleExtensionIn(Input):
    """Extend the cycle (采购周期视实际情况可延长) of one line of a batch, or of all of them."""

    extension_id: Identifier
    years: int = Field(ge=1, le=10)
    extended_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)
    generic_group_id: Identifier | None = None
    product_id: Identifier | None = None


class AmendmentIn(Input):
    agreed_quantity: Quantity
    amended_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)


class ReallocationLineIn(Input):
    agreement_id: Identifier
    agreed_quantity: Quantity = Field(description="the agreement's new agreed volume")


class ReallocationIn(Input):
    """Move agreed volume between institutions' agreements of one product and year; the total stays the same."""

    reallocation_id: Identifier
    amended_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)
    lines: list[ReallocationLineIn] = Field(min_length=2, max_length=10000)


class RollOverIn(Input):
    rolled_over_on: BusinessDate
    agreed_quantity: Quantity | None = Field(None, gt=0, description="the next year's 约定采购量; none: this year's")


class ManufacturerReportIn(Input):
    """生产、供应、库存、回款 of the previous month (每月5日前报送上月, Hubei 003 §五(二))."""

    month: YearMonth = Field(description="the month reported on, YYYY-MM")
    submitted_on: BusinessDate
    produced_quantity: Quantity
    supplied_quantity: Quantity
    stock_quantity: Quantity
    payments_received: MoneyIn = Field(description="回款 received in the month, yuan")
