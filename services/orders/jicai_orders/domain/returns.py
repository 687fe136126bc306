"""Returns (退货): the institution gives back part of an accepted delivery.

At most what was accepted and not yet returned can be returned; a return
cannot precede the acceptance. The returned units no longer count as
delivered for billing: an invoice can bill only accepted − returned units
(see ``invoice``). Idempotent by return id: the same return again records
nothing; the same id with other content is a conflict.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from jicai_orders.domain.amounts import line_amount
from jicai_orders.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_orders.domain.events import DeliveryReturned
from jicai_orders.domain.invoice import AcceptanceView


@dataclass(frozen=True)
class ReturnDelivery:
    return_id: str
    acceptance_id: str
    quantity: int
    returned_on: date
    reason: str


def give_back(history: Sequence[DeliveryReturned], cmd: ReturnDelivery, accepted: AcceptanceView) -> list[DeliveryReturned]:
    """Decide: record the return of ``cmd.quantity`` units of ``accepted`` (as it stands now, locked)."""
    if history:
        if _submitted(history[0]) == cmd:
            return []
        raise AlreadyExists(f"return {cmd.return_id} is recorded already with different content")
    if cmd.quantity < 1:
        raise DomainRuleViolated("returned_quantity", "must be at least 1")
    returnable = accepted.accepted_quantity - accepted.returned_quantity
    if cmd.quantity > returnable:
        raise DomainRuleViolated(
            "returned_quantity",
            f"acceptance {accepted.acceptance_id} has {returnable} of {accepted.accepted_quantity} accepted units not yet returned; "
            f"this return is {cmd.quantity}",
        )
    if cmd.returned_on < accepted.accepted_on:
        raise DomainRuleViolated("returned_on", f"{cmd.returned_on} is before the delivery was accepted ({accepted.accepted_on})")
    return [
        DeliveryReturned(
            return_id=cmd.return_id, acceptance_id=accepted.acceptance_id, institution_id=accepted.institution_id,
            pooling_region_code=accepted.pooling_region_code, contract_id=accepted.contract_id, product_id=accepted.product_id,
            distributor_id=accepted.distributor_id, returned_quantity=cmd.quantity,
            returned_amount=line_amount(cmd.quantity, accepted.unit_price), returned_on=cmd.returned_on, reason=cmd.reason,
        )
    ]


def _submitted(recorded: DeliveryReturned) -> ReturnDelivery:
    return ReturnDelivery(recorded.return_id, recorded.acceptance_id, recorded.returned_quantity, recorded.returned_on, recorded.reason)
