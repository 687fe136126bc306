"""Handlers of the events orders consumes (run by the idempotent consumer in one unit of work)."""
from __future__ import annotations

from jicai_events.catalog import ContractSigned
from jicai_events.envelope import Envelope
from jicai_events.unit_of_work import UnitOfWork
from jicai_orders.application import services
from jicai_orders.domain.events import ContractRecorded


async def on_contract_signed(uow: UnitOfWork, envelope: Envelope, event: ContractSigned) -> None:
    """Keep the contract's terms: acceptances are checked and priced against them."""
    await services.record_contract(uow, ContractRecorded(**event.model_dump(exclude={"signed_on"})))
