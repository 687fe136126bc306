"""Facts owned by the contracts service: parties, winning products, contracts."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from jicai_events.base import IntegrationEvent, integration_event
from jicai_events.types import Identifier, Money, Quantity, UnitPrice


def _four_places(value: Decimal) -> Decimal:
    if not value.is_finite() or value != value.quantize(Decimal("0.0001")):
        raise ValueError("must be a finite number with at most 4 decimal places")
    return value.quantize(Decimal("0.0001"))


BaseUnitsPerTradingUnit = Annotated[
    Decimal, Field(gt=0, max_digits=10), AfterValidator(_four_places),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
]
"""How many of the generic group's base units one trading unit holds (a box "20mg*7片" holds 7 片)."""


class _ContractsEvent(IntegrationEvent):
    source_service = "contracts"


@integration_event
class InstitutionRegistered(_ContractsEvent):
    """A medical institution (医疗机构) joined the platform in a pooling region (统筹区)."""

    event_name = "InstitutionRegistered"
    institution_id: Identifier
    name: str = Field(min_length=1, max_length=200)
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="统筹区 administrative code")
    county_code: str = Field(pattern=r"^\d{6}$", description="县/区 administrative code")


@integration_event
class ManufacturerRegistered(_ContractsEvent):
    """A winning manufacturer (中选生产企业) joined the platform."""

    event_name = "ManufacturerRegistered"
    manufacturer_id: Identifier
    name: str = Field(min_length=1, max_length=200)

    def partition_key(self) -> str:
        return self.manufacturer_id


@integration_event
class DistributorRegistered(_ContractsEvent):
    """A distributor (配送企业) joined the platform."""

    event_name = "DistributorRegistered"
    distributor_id: Identifier
    name: str = Field(min_length=1, max_length=200)

    def partition_key(self) -> str:
        return self.distributor_id


@integration_event
class WinningProductListed(_ContractsEvent):
    """A winning product (中选药品) was listed at its winning price (中选价格)."""

    event_name = "WinningProductListed"
    product_id: Identifier
    batch_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_id: Identifier
    winning_unit_price: UnitPrice
    trading_unit: str = Field(min_length=1, max_length=20, description="e.g. 盒")
    generic_group_id: Identifier | None = Field(None, description="the generic group (同通用名/评审组) the product belongs to")
    base_units_per_trading_unit: BaseUnitsPerTradingUnit | None = Field(
        None, description="base units of the group in one trading unit; given with generic_group_id"
    )

    def partition_key(self) -> str:
        return self.product_id


@integration_event
class GenericGroupDefined(_ContractsEvent):
    """A generic group (同通用名 / 评审组): products that substitute for each other, compared in one base unit."""

    event_name = "GenericGroupDefined"
    group_id: Identifier
    batch_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    base_unit: str = Field(min_length=1, max_length=20, description="the unit quantities compare in, e.g. 片, 支")

    def partition_key(self) -> str:
        return self.group_id


@integration_event
class NonWinningProductListed(_ContractsEvent):
    """A non-winning product (非中选药品) of a generic group: may be bought beyond the agreed volume (R4)."""

    event_name = "NonWinningProductListed"
    product_id: Identifier
    generic_group_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    dosage_form: str = Field(min_length=1, max_length=100)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_name: str = Field(min_length=1, max_length=200)
    base_units_per_trading_unit: BaseUnitsPerTradingUnit
    reference_unit_price: UnitPrice | None = Field(None, description="挂网 reference price per trading unit, if known")

    def partition_key(self) -> str:
        return self.product_id


@integration_event
class NonWinningProductPricedAbovePaymentStandard(_ContractsEvent):
    """R6 (医保支付标准): a non-winning product costs more per base unit than its generic group's payment standard, the
    (highest) winning price, in the region of the group's batch. Where the profile says so the patient pays the excess
    (Chongqing 004 §二(四), Hubei 003 §四(四)) or the first self-pay ratio rises (Shandong 001 §五: 10 points).
    One decision per product."""

    event_name = "NonWinningProductPricedAbovePaymentStandard"
    decision_id: Identifier = Field(description="dearer-{product_id}")
    product_id: Identifier
    generic_group_id: Identifier
    batch_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="the batch's 统筹区, whose profile decided")
    profile_id: str = Field(min_length=1, max_length=64)
    profile_version: int = Field(ge=1)
    source: str = Field(min_length=1, max_length=200, description="the notice section of the profile's payment standard")
    unit_price: UnitPrice = Field(description="the product's 挂网 price per trading unit")
    base_units_per_trading_unit: BaseUnitsPerTradingUnit
    # derived prices: rounded to 4 places half up, as unit prices are
    price_per_base_unit: Decimal = Field(ge=0, description="unit_price / base_units_per_trading_unit")
    payment_standard_per_base_unit: Decimal = Field(ge=0, description="the group's payment standard: the highest winning price per base unit")
    payment_standard_per_trading_unit: Decimal | None = Field(
        ge=0, description="the standard for one trading unit of this product; none where the notice sets none (Shandong)"
    )
    patient_pays_per_trading_unit: Decimal | None = Field(ge=0, description="the excess the patient pays (超出支付标准的部分由患者自付)")
    first_self_pay_ratio_increase: Decimal | None = Field(
        ge=0, le=1, description="added to the patient's first self-pay ratio (个人首先自付比例), e.g. 0.10 = 10 points"
    )

    def subject(self) -> str:
        return self.decision_id

    def partition_key(self) -> str:
        return self.product_id


@integration_event
class ContractSigned(_ContractsEvent):
    """A volume contract (带量购销合同) was signed at the winning price."""

    event_name = "ContractSigned"
    contract_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="the institution's 统筹区 at signing")
    manufacturer_id: Identifier
    distributor_id: Identifier
    product_id: Identifier
    unit_price: UnitPrice
    agreed_quantity: Quantity = Field(description="约定采购量, in trading units")
    cycle_start: date
    cycle_end: date
    signed_on: date

    def subject(self) -> str:
        return self.contract_id


# ---- yearly agreements (采购协议每年一签), Hubei 003 §二(三), Guizhou 000 §四(三) -------------


class _AgreementEvent(_ContractsEvent):
    agreement_id: Identifier
    contract_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="the institution's 统筹区")
    product_id: Identifier

    def subject(self) -> str:
        return self.agreement_id


@integration_event
class YearlyAgreementSigned(_AgreementEvent):
    """The yearly purchase agreement (年度采购协议) of one contract year, with its agreed volume (约定采购量)."""

    event_name = "YearlyAgreementSigned"
    agreement_year: int = Field(ge=1, le=10, description="1 for the first year of the cycle, 2 for the second, ...")
    year_start: date
    year_end: date
    agreed_quantity: Quantity = Field(description="约定采购量 of this agreement year, in trading units")
    unit_price: UnitPrice
    signed_on: date


@integration_event
class YearlyAgreementAmended(_AgreementEvent):
    """The agreed volume of a yearly agreement was changed (volume reallocated, 调整约定采购量)."""

    event_name = "YearlyAgreementAmended"
    agreed_quantity: Quantity = Field(description="the new agreed volume of the agreement year")
    previous_agreed_quantity: Quantity
    amended_on: date
    reason: str = Field(min_length=1, max_length=2000)
    reallocation_id: Identifier | None = Field(
        None, description="set when volume moved between institutions: every amendment of one reallocation shares it"
    )


@integration_event
class YearlyAgreementRolledOver(_AgreementEvent):
    """The next year's agreement (续签) was signed from the previous one; ``agreement_id`` is the new agreement."""

    event_name = "YearlyAgreementRolledOver"
    previous_agreement_id: Identifier
    agreement_year: int = Field(ge=2, le=10)
    year_start: date
    year_end: date
    agreed_quantity: Quantity
    unit_price: UnitPrice
    owed_quantity_at_rollover: Quantity = Field(description="volume still owed on the previous agreement when it rolled over")
    rolled_over_on: date


@integration_event
class ContractCycleExtended(_ContractsEvent):
    """The procurement cycle (采购周期) of a contract was extended (延长), within the profile's extendable years."""

    event_name = "ContractCycleExtended"
    contract_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$")
    previous_cycle_end: date
    cycle_end: date
    extended_on: date
    reason: str = Field(min_length=1, max_length=2000)

    def subject(self) -> str:
        return self.contract_id


@integration_event
class ManufacturerReportSubmitted(_ContractsEvent):
    """A manufacturer's monthly report (生产、供应、库存、回款情况) on the previous month, Hubei 003 §五(二)."""

    event_name = "ManufacturerReportSubmitted"
    report_id: Identifier
    manufacturer_id: Identifier
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="the month reported on, YYYY-MM")
    submitted_on: date
    produced_quantity: Quantity
    supplied_quantity: Quantity
    stock_quantity: Quantity
    payments_received: Money = Field(description="回款 received in the month")

    def subject(self) -> str:
        return self.report_id

    def partition_key(self) -> str:
        return self.manufacturer_id


# ---- batches (采购批次) and their cycles (采购周期): contracts-only facts -------------------------


class BatchCycleLine(BaseModel):
    """One generic group or product of a batch with its winning companies (中选企业数) and its cycle."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    generic_group_id: Identifier | None = Field(description="the generic group the line is for, or none with product_id")
    product_id: Identifier | None = Field(description="the winning product the line is for, or none with generic_group_id")
    winner_count: int = Field(ge=1, le=100)
    cycle_years: int = Field(ge=1, le=10)
    cycle_end: date


@integration_event
class BatchPublished(_ContractsEvent):
    """A procurement batch (采购批次) with each line's cycle (采购周期) from the region's profile, Hubei 003 §二(三)."""

    event_name = "BatchPublished"
    batch_id: Identifier
    title: str = Field(min_length=1, max_length=200)
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="the 统筹区 whose profile gives the cycle rules")
    profile_id: str = Field(min_length=1, max_length=64)
    profile_version: int = Field(ge=1)
    cycle_start: date
    lines: tuple[BatchCycleLine, ...] = Field(min_length=1)

    def partition_key(self) -> str:
        return self.batch_id
