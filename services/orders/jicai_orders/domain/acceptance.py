"""Acceptances (验收合格): one HIS line, one stream, recorded once.

The acceptance date starts the payment clock (R1), so a line is recorded at
most once: a HIS that retries a push (the same external_id with the same
content) gets ``Duplicate``; the same external_id with different content is
refused, never silently overwritten. A line the platform cannot place (no
such contract yet, another institution's contract, a date outside the
contract's cycle, nothing delivered) is ``Rejected`` with the reason, and can
be pushed again once corrected.

The accepted amount is accepted_quantity × the contract's unit price,
rounded to the fen half up (see ``amounts``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from jicai_orders.domain.amounts import LARGEST_AMOUNT, line_amount
from jicai_orders.domain.contract import ContractView, mismatch
from jicai_orders.domain.events import AcceptanceRecorded
from jicai_orders.domain.order import OrderView, Status

CONFLICTING = "conflicts with the acceptance recorded earlier"
MAX_ID_LENGTH = 64
"""An acceptance id is an Identifier of the integration events: at most 64 characters."""


@dataclass(frozen=True)
class AcceptanceLine:
    """One line of a HIS push, as the institution reported it."""

    external_id: str
    contract_id: str
    accepted_quantity: int
    rejected_quantity: int
    rejection_reason: str | None
    accepted_on: date
    lot_number: str
    channel: str = "platform"
    """platform, or offline (线下采购): bought outside the platform, a KPI violation (R7)."""
    order_id: str | None = None
    """The order (订单) this delivery fills, if the HIS names one."""
    product_id: str | None = None
    """Optional: when stated, must be the contract's product."""
    unit_price: Decimal | None = None
    """Optional: when stated, must be the contract's winning price."""


@dataclass(frozen=True)
class Accepted:
    event: AcceptanceRecorded


@dataclass(frozen=True)
class Duplicate:
    acceptance_id: str


@dataclass(frozen=True)
class Rejected:
    reason: str


Decision = Accepted | Duplicate | Rejected


def acceptance_id(institution_id: str, external_id: str) -> str:
    """The platform's id of an acceptance: unique because external ids are unique per institution."""
    return f"{institution_id}:{external_id}"


def accept(
    history: Sequence[AcceptanceRecorded], institution_id: str, line: AcceptanceLine, contract: ContractView | None,
    order: OrderView | None = None,
) -> Decision:
    """Decide one line pushed by ``institution_id``'s HIS, given its stream, the contract and the order it names."""
    if history:
        return _repeat(history[0], institution_id, line)
    if len(acceptance_id(institution_id, line.external_id)) > MAX_ID_LENGTH:
        return Rejected(f"the acceptance id {institution_id}:{line.external_id} would be longer than {MAX_ID_LENGTH} characters")
    if contract is None:
        return Rejected(
            f"contract {line.contract_id} is not known to orders (not signed, or not received yet); push it again later"
        )
    if contract.institution_id != institution_id:
        return Rejected(f"contract {line.contract_id} is not a contract of institution {institution_id}")
    if not contract.cycle_start <= line.accepted_on <= contract.cycle_end:
        return Rejected(
            f"accepted_on {line.accepted_on} is outside the contract cycle {contract.cycle_start} to {contract.cycle_end}"
        )
    wrong = mismatch(contract, line.product_id, line.unit_price)
    if wrong is not None:
        return Rejected(wrong[1])
    if line.order_id is not None:
        refused = _order_refuses(order, institution_id, line)
        if refused:
            return Rejected(refused)
    if line.accepted_quantity + line.rejected_quantity == 0:
        return Rejected("accepted_quantity + rejected_quantity is 0: the line reports no delivery")
    if line.rejected_quantity > 0 and not (line.rejection_reason or "").strip():
        return Rejected("rejection_reason is required when rejected_quantity > 0")
    amount = line_amount(line.accepted_quantity, contract.unit_price)
    if amount > LARGEST_AMOUNT:
        return Rejected(f"accepted amount {amount} exceeds the largest amount the platform records")
    return Accepted(
        AcceptanceRecorded(
            acceptance_id=acceptance_id(institution_id, line.external_id),
            external_id=line.external_id,
            institution_id=institution_id,
            pooling_region_code=contract.pooling_region_code,
            contract_id=contract.contract_id,
            product_id=contract.product_id,
            distributor_id=contract.distributor_id,
            manufacturer_id=contract.manufacturer_id,
            accepted_quantity=line.accepted_quantity,
            rejected_quantity=line.rejected_quantity,
            rejection_reason=line.rejection_reason,
            accepted_on=line.accepted_on,
            lot_number=line.lot_number,
            unit_price=contract.unit_price,
            accepted_amount=amount,
            channel=line.channel,
            order_id=line.order_id,
        )
    )


def _order_refuses(order: OrderView | None, institution_id: str, line: AcceptanceLine) -> str | None:
    """Why the line cannot be linked to the order it names, if it cannot."""
    if order is None or order.institution_id != institution_id:
        return f"order {line.order_id} is not an order of institution {institution_id}"
    if line.contract_id not in order.contract_ids:
        return f"order {line.order_id} has no line for contract {line.contract_id}"
    if order.status == Status.CANCELLED:
        return f"order {line.order_id} is cancelled"
    if order.status in (Status.PLACED, Status.CONFIRMED):
        return f"order {line.order_id} is {order.status}, not shipped yet; push the line again once the distributor has shipped it"
    return None


def _repeat(recorded: AcceptanceRecorded, institution_id: str, line: AcceptanceLine) -> Decision:
    if (recorded.institution_id, recorded.external_id) != (institution_id, line.external_id):
        # Two (institution, external id) pairs spelling the same stream name: never merge them.
        return Rejected(f"external_id clashes with acceptance {recorded.acceptance_id}; use another external_id")
    stated_agree = line.product_id in (None, recorded.product_id) and line.unit_price in (None, recorded.unit_price)
    if stated_agree and reported(recorded) == replace(line, product_id=None, unit_price=None):
        return Duplicate(recorded.acceptance_id)
    return Rejected(CONFLICTING)


def reported(recorded: AcceptanceRecorded) -> AcceptanceLine:
    """The line as the HIS reported it (what a repeated push is compared with)."""
    return AcceptanceLine(
        external_id=recorded.external_id,
        contract_id=recorded.contract_id,
        accepted_quantity=recorded.accepted_quantity,
        rejected_quantity=recorded.rejected_quantity,
        rejection_reason=recorded.rejection_reason,
        accepted_on=recorded.accepted_on,
        lot_number=recorded.lot_number,
        channel=recorded.channel,
        order_id=recorded.order_id,
    )
