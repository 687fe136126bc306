"""Handlers of the events orders consumes (run by the idempotent consumer in one unit of work)."""
from __future__ import annotations

from jicai_events.catalog import ContractSigned, GenericGroupDefined, NonWinningProductListed, WinningProductListed
from jicai_events.envelope import Envelope
from jicai_events.unit_of_work import UnitOfWork
from jicai_orders.application import services
from jicai_orders.domain.events import ContractRecorded, GenericGroupRecorded, ProductRecorded


async def on_contract_signed(uow: UnitOfWork, envelope: Envelope, event: ContractSigned) -> None:
    """Keep the contract's terms: acceptances are checked and priced against them."""
    await services.record_contract(uow, ContractRecorded(**event.model_dump(exclude={"signed_on"})))


async def on_generic_group_defined(uow: UnitOfWork, envelope: Envelope, event: GenericGroupDefined) -> None:
    """Keep the generic group: purchases are compared in its base unit."""
    await services.record_generic_group(uow, GenericGroupRecorded(**event.model_dump()))


async def on_winning_product_listed(uow: UnitOfWork, envelope: Envelope, event: WinningProductListed) -> None:
    """Keep the winning product's group and conversion factor (none when it names no group)."""
    await services.record_product(uow, ProductRecorded(
        product_id=event.product_id, winning=True, generic_group_id=event.generic_group_id,
        base_units_per_trading_unit=event.base_units_per_trading_unit, generic_name=event.generic_name,
        dosage_form=event.dosage_form, specification=event.specification,
    ))


async def on_non_winning_product_listed(uow: UnitOfWork, envelope: Envelope, event: NonWinningProductListed) -> None:
    """Keep the non-winning product (非中选) with its group and conversion factor."""
    await services.record_product(uow, ProductRecorded(
        product_id=event.product_id, winning=False, generic_group_id=event.generic_group_id,
        base_units_per_trading_unit=event.base_units_per_trading_unit, generic_name=event.generic_name,
        dosage_form=event.dosage_form, specification=event.specification,
    ))
