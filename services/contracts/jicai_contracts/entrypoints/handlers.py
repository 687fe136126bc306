"""Handlers of the events contracts consumes (run by the idempotent consumer in one unit of work)."""
from __future__ import annotations

from jicai_contracts.application import agreements
from jicai_contracts.domain.events import DeliveryAcceptanceCounted, DeliveryReturnCounted
from jicai_events.catalog import DeliveryAccepted, DeliveryReturned
from jicai_events.envelope import Envelope
from jicai_events.unit_of_work import UnitOfWork


async def on_delivery_accepted(uow: UnitOfWork, envelope: Envelope, event: DeliveryAccepted) -> None:
    """Count the accepted quantity toward the contract's agreement year containing ``accepted_on`` (volume still owed)."""
    await agreements.count_acceptance(uow, DeliveryAcceptanceCounted(
        acceptance_id=event.acceptance_id, contract_id=event.contract_id, accepted_quantity=event.accepted_quantity,
        accepted_on=event.accepted_on,
    ))


async def on_delivery_returned(uow: UnitOfWork, envelope: Envelope, event: DeliveryReturned) -> None:
    """Take returned goods off the agreement year of their acceptance."""
    await agreements.count_return(uow, DeliveryReturnCounted(
        return_id=event.return_id, acceptance_id=event.acceptance_id, contract_id=event.contract_id,
        returned_quantity=event.returned_quantity, returned_on=event.returned_on,
    ))
