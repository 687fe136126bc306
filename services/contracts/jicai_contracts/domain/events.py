"""Domain events of the contracts service (internal; translated at the edge)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from jicai_events.domain_events import DomainEvent, EventCodec

ID_LENGTH = 64
"""The platform's identifier limit (``jicai_events.types.Identifier``): ids derived from others must fit it."""


class InstitutionRegistered(DomainEvent):
    name = "InstitutionRegistered"
    institution_id: str
    institution_name: str
    pooling_region_code: str
    county_code: str


class ManufacturerRegistered(DomainEvent):
    name = "ManufacturerRegistered"
    manufacturer_id: str
    manufacturer_name: str


class DistributorRegistered(DomainEvent):
    name = "DistributorRegistered"
    distributor_id: str
    distributor_name: str


class WinningProductListed(DomainEvent):
    name = "WinningProductListed"
    product_id: str
    batch_id: str
    generic_name: str
    dosage_form: str
    specification: str
    manufacturer_id: str
    winning_unit_price: Decimal
    trading_unit: str
    generic_group_id: str | None = None
    base_units_per_trading_unit: Decimal | None = None


class GenericGroupDefined(DomainEvent):
    name = "GenericGroupDefined"
    group_id: str
    batch_id: str
    generic_name: str
    dosage_form: str
    base_unit: str


class NonWinningProductListed(DomainEvent):
    name = "NonWinningProductListed"
    product_id: str
    generic_group_id: str
    generic_name: str
    dosage_form: str
    specification: str
    manufacturer_name: str
    base_units_per_trading_unit: Decimal
    reference_unit_price: Decimal | None = None


class NonWinningProductPricedAbovePaymentStandard(DomainEvent):
    """R6: a non-winning product costs more per base unit than its group's payment standard (医保支付标准) in the batch's region."""

    name = "NonWinningProductPricedAbovePaymentStandard"
    decision_id: str
    product_id: str
    generic_group_id: str
    batch_id: str
    pooling_region_code: str
    profile_id: str
    profile_version: int
    source: str
    unit_price: Decimal
    base_units_per_trading_unit: Decimal
    price_per_base_unit: Decimal
    payment_standard_per_base_unit: Decimal
    payment_standard_per_trading_unit: Decimal | None
    patient_pays_per_trading_unit: Decimal | None
    first_self_pay_ratio_increase: Decimal | None


class ContractSigned(DomainEvent):
    name = "ContractSigned"
    contract_id: str
    institution_id: str
    pooling_region_code: str
    manufacturer_id: str
    distributor_id: str
    product_id: str
    unit_price: Decimal
    agreed_quantity: int
    cycle_start: date
    cycle_end: date
    signed_on: date


class AllocatedVolume(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    institution_id: str
    county_code: str
    basis_quantity: int
    allocated_quantity: int


class VolumeAllocationDrafted(DomainEvent):
    """A decomposition of a product's agreed volume, open for review before contracts are signed."""

    name = "VolumeAllocationDrafted"
    allocation_id: str
    product_id: str
    agreement_year: int
    method: str
    total: int | None
    ratio: Decimal | None
    group_by_county: bool
    lines: tuple[AllocatedVolume, ...]
    # the region and its profile that decided method and grouping; None on drafts recorded before profiles decided them
    pooling_region_code: str | None = None
    profile_id: str | None = None
    profile_version: int | None = None
    profile_method: str | None = None


class VolumeAllocationApproved(DomainEvent):
    name = "VolumeAllocationApproved"
    allocation_id: str
    approved_on: date
    profile_id: str | None = None
    profile_version: int | None = None


class BatchLine(BaseModel):
    """One generic group or product of a batch: its winning companies (中选企业数) and so its cycle."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    generic_group_id: str | None
    product_id: str | None
    winner_count: int
    cycle_years: int
    cycle_end: date


class BatchPublished(DomainEvent):
    """A procurement batch (采购批次) with its cycle (采购周期) per generic group or product, under a profile's cycle rules."""

    name = "BatchPublished"
    batch_id: str
    title: str
    pooling_region_code: str
    profile_id: str
    profile_version: int
    cycle_start: date
    lines: tuple[BatchLine, ...]


class BatchCycleExtended(DomainEvent):
    """The cycle of some lines of a batch was extended (采购周期视实际情况可延长); each line's contracts follow."""

    name = "BatchCycleExtended"
    batch_id: str
    extension_id: str
    generic_group_id: str | None
    product_id: str | None
    years: int
    extended_on: date
    reason: str
    lines: tuple[BatchLine, ...]
    """The extended lines, with their new ``cycle_end``."""


class ContractCycleExtended(DomainEvent):
    name = "ContractCycleExtended"
    contract_id: str
    institution_id: str
    pooling_region_code: str
    previous_cycle_end: date
    cycle_end: date
    extended_on: date
    reason: str


class _AgreementEvent(DomainEvent):
    agreement_id: str
    contract_id: str
    institution_id: str
    pooling_region_code: str
    product_id: str


class YearlyAgreementSigned(_AgreementEvent):
    """年度采购协议 of one year of a contract's cycle; the parties ride along for party-scoped reads."""

    name = "YearlyAgreementSigned"
    manufacturer_id: str
    distributor_id: str
    agreement_year: int
    year_start: date
    year_end: date
    agreed_quantity: int
    unit_price: Decimal
    signed_on: date


class YearlyAgreementAmended(_AgreementEvent):
    name = "YearlyAgreementAmended"
    agreed_quantity: int
    previous_agreed_quantity: int
    amended_on: date
    reason: str
    reallocation_id: str | None = None


class YearlyAgreementRolledOver(_AgreementEvent):
    name = "YearlyAgreementRolledOver"
    manufacturer_id: str
    distributor_id: str
    previous_agreement_id: str
    agreement_year: int
    year_start: date
    year_end: date
    agreed_quantity: int
    unit_price: Decimal
    owed_quantity_at_rollover: int
    rolled_over_on: date


class ReallocatedVolume(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    agreement_id: str
    agreed_quantity: int


class VolumeReallocated(DomainEvent):
    """A reallocation (调剂) of one product's volume between institutions' agreements: the request, kept for retries."""

    name = "VolumeReallocated"
    reallocation_id: str
    amended_on: date
    reason: str
    lines: tuple[ReallocatedVolume, ...]


class DeliveryAcceptanceCounted(DomainEvent):
    """An acceptance reported by orders, counted toward the agreement year containing ``accepted_on``."""

    name = "DeliveryAcceptanceCounted"
    acceptance_id: str
    contract_id: str
    accepted_quantity: int
    accepted_on: date


class DeliveryReturnCounted(DomainEvent):
    """A return reported by orders, taken off the agreement year of its acceptance."""

    name = "DeliveryReturnCounted"
    return_id: str
    acceptance_id: str
    contract_id: str
    returned_quantity: int
    returned_on: date


class ManufacturerReportSubmitted(DomainEvent):
    name = "ManufacturerReportSubmitted"
    report_id: str
    manufacturer_id: str
    month: str
    submitted_on: date
    produced_quantity: int
    supplied_quantity: int
    stock_quantity: int
    payments_received: Decimal


ContractsEvent = (
    InstitutionRegistered | ManufacturerRegistered | DistributorRegistered | WinningProductListed | ContractSigned
    | VolumeAllocationDrafted | VolumeAllocationApproved | GenericGroupDefined | NonWinningProductListed
    | BatchPublished | BatchCycleExtended | ContractCycleExtended | YearlyAgreementSigned | YearlyAgreementAmended
    | YearlyAgreementRolledOver | VolumeReallocated | DeliveryAcceptanceCounted | DeliveryReturnCounted | ManufacturerReportSubmitted
    | NonWinningProductPricedAbovePaymentStandard
)

codec: EventCodec[ContractsEvent] = EventCodec(
    InstitutionRegistered, ManufacturerRegistered, DistributorRegistered, WinningProductListed, ContractSigned,
    VolumeAllocationDrafted, VolumeAllocationApproved, GenericGroupDefined, NonWinningProductListed,
    BatchPublished, BatchCycleExtended, ContractCycleExtended, YearlyAgreementSigned, YearlyAgreementAmended,
    YearlyAgreementRolledOver, VolumeReallocated, DeliveryAcceptanceCounted, DeliveryReturnCounted, ManufacturerReportSubmitted,
    NonWinningProductPricedAbovePaymentStandard,
)
