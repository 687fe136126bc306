"""Domain events of the contracts service (internal; translated at the edge)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from jicai_events.store import DomainEvent, EventCodec


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


class VolumeAllocationApproved(DomainEvent):
    name = "VolumeAllocationApproved"
    allocation_id: str
    approved_on: date


ContractsEvent = (
    InstitutionRegistered | ManufacturerRegistered | DistributorRegistered | WinningProductListed | ContractSigned
    | VolumeAllocationDrafted | VolumeAllocationApproved | GenericGroupDefined | NonWinningProductListed
)

codec: EventCodec[ContractsEvent] = EventCodec(  # type: ignore[arg-type]
    InstitutionRegistered, ManufacturerRegistered, DistributorRegistered, WinningProductListed, ContractSigned,
    VolumeAllocationDrafted, VolumeAllocationApproved, GenericGroupDefined, NonWinningProductListed,
)
