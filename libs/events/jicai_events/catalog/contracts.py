"""Facts owned by the contracts service: parties, winning products, contracts."""
from __future__ import annotations

from datetime import date

from pydantic import Field

from jicai_events.base import IntegrationEvent, integration_event
from jicai_events.types import Identifier, Quantity, UnitPrice


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
