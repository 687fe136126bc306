"""Translation of contracts domain events into integration events (the edge)."""
from __future__ import annotations

from functools import singledispatch

import jicai_events.catalog as ie
from jicai_contracts.domain import events as e
from jicai_events.base import IntegrationEvent


@singledispatch
def translate(event: object) -> IntegrationEvent | None:
    raise TypeError(f"no translation for {type(event).__name__}")


@translate.register
def _(event: e.InstitutionRegistered) -> IntegrationEvent:
    return ie.InstitutionRegistered(
        institution_id=event.institution_id,
        name=event.institution_name,
        pooling_region_code=event.pooling_region_code,
        county_code=event.county_code,
    )


@translate.register
def _(event: e.ManufacturerRegistered) -> IntegrationEvent:
    return ie.ManufacturerRegistered(manufacturer_id=event.manufacturer_id, name=event.manufacturer_name)


@translate.register
def _(event: e.DistributorRegistered) -> IntegrationEvent:
    return ie.DistributorRegistered(distributor_id=event.distributor_id, name=event.distributor_name)


@translate.register
def _(event: e.WinningProductListed) -> IntegrationEvent:
    return ie.WinningProductListed(**event.model_dump())


@translate.register
def _(event: e.GenericGroupDefined) -> IntegrationEvent:
    return ie.GenericGroupDefined(**event.model_dump())


@translate.register
def _(event: e.NonWinningProductListed) -> IntegrationEvent:
    return ie.NonWinningProductListed(**event.model_dump())


@translate.register
def _(event: e.ContractSigned) -> IntegrationEvent:
    return ie.ContractSigned(**event.model_dump())


@translate.register
def _(event: e.VolumeAllocationDrafted) -> None:
    return None  # a draft is internal until reviewed


@translate.register
def _(event: e.VolumeAllocationApproved) -> None:
    return None  # the approved volumes reach other services as the contracts signed from them


@translate.register
def _(event: e.BatchPublished) -> IntegrationEvent:
    return ie.BatchPublished(**event.model_dump())


@translate.register
def _(event: e.BatchCycleExtended) -> None:
    return None  # other services learn of it as the ContractCycleExtended of each contract it moves


@translate.register
def _(event: e.ContractCycleExtended) -> IntegrationEvent:
    return ie.ContractCycleExtended(**event.model_dump())


@translate.register
def _(event: e.YearlyAgreementSigned) -> IntegrationEvent:
    return ie.YearlyAgreementSigned(**event.model_dump(exclude={"manufacturer_id", "distributor_id"}))


@translate.register
def _(event: e.YearlyAgreementAmended) -> IntegrationEvent:
    return ie.YearlyAgreementAmended(**event.model_dump())


@translate.register
def _(event: e.YearlyAgreementRolledOver) -> IntegrationEvent:
    return ie.YearlyAgreementRolledOver(**event.model_dump(exclude={"manufacturer_id", "distributor_id"}))


@translate.register
def _(event: e.VolumeReallocated) -> None:
    return None  # published as the amendments that share its reallocation_id


@translate.register
def _(event: e.DeliveryAcceptanceCounted) -> None:
    return None  # orders' fact, counted here


@translate.register
def _(event: e.DeliveryReturnCounted) -> None:
    return None  # orders' fact, counted here


@translate.register
def _(event: e.ManufacturerReportSubmitted) -> IntegrationEvent:
    return ie.ManufacturerReportSubmitted(**event.model_dump())


@translate.register
def _(event: e.NonWinningProductPricedAbovePaymentStandard) -> IntegrationEvent:
    return ie.NonWinningProductPricedAbovePaymentStandard(**event.model_dump())
