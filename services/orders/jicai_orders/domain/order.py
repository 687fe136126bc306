"""Orders (订单): placed by the institution against its contracts, confirmed and shipped (配送) by the distributor.

Liangjiang 002 §二(一): all purchases go through the platform. An order names
contract lines (contract, quantity; product and price optional, checked
against the contract when stated) and is priced at each contract's winning
price. All lines go to one distributor, the one who confirms and ships.

Lifecycle: placed → confirmed → shipped; cancelled only before shipping.
Deliveries are linked by the HIS acceptances that name the order; the order's
status then reads partly delivered / delivered from the quantities received.
Each step is idempotent: the same step with the same content again records
nothing; the same step with other content is a conflict.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from jicai_orders.domain.amounts import LARGEST_AMOUNT, line_amount
from jicai_orders.domain.contract import ContractView, mismatch
from jicai_orders.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_orders.domain.events import OrderCancelled, OrderConfirmed, OrderedLine, OrderEvent, OrderPlaced, OrderShipped


class Status(StrEnum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    PARTLY_DELIVERED = "partly_delivered"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


Step = Callable[[Sequence[OrderEvent]], list[OrderEvent]]
"""A decision on an order's history: confirm, ship or cancel with their arguments bound."""


@dataclass(frozen=True)
class OrderLine:
    contract_id: str
    quantity: int
    product_id: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class PlaceOrder:
    order_id: str
    institution_id: str
    placed_on: date
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True)
class OrderView:
    """What an acceptance naming the order needs to know of it."""

    order_id: str
    institution_id: str
    status: str
    contract_ids: frozenset[str]


@dataclass(frozen=True)
class Delivered:
    """Quantities the HIS reported against one order line."""

    ordered: int
    accepted: int
    rejected: int


def place(history: Sequence[OrderEvent], cmd: PlaceOrder, contracts: Mapping[str, ContractView]) -> list[OrderEvent]:
    """Decide: place ``cmd`` against the institution's contracts as orders knows them."""
    if history:
        if isinstance(history[0], OrderPlaced) and submitted(history[0]) == without_stated_terms(cmd):
            return []
        raise AlreadyExists(f"order {cmd.order_id} is placed already with different content")
    if not cmd.lines:
        raise DomainRuleViolated("lines", "an order needs at least one line")
    priced = [_price(i, line, cmd, contracts) for i, line in enumerate(cmd.lines)]
    seen: dict[str, int] = {}
    for i, line in enumerate(cmd.lines):
        if line.contract_id in seen:
            raise DomainRuleViolated(f"lines[{i}].contract_id", f"repeats lines[{seen[line.contract_id]}]; one line per contract")
        seen[line.contract_id] = i
    distributors = {contracts[line.contract_id].distributor_id for line in cmd.lines}
    if len(distributors) > 1:
        raise DomainRuleViolated(
            "lines", f"the lines' contracts are delivered by different distributors ({', '.join(sorted(distributors))}); one order per distributor"
        )
    amount = sum((line.amount for line in priced), Decimal("0.00"))
    if amount > LARGEST_AMOUNT:
        raise DomainRuleViolated("lines", f"the order total {amount} exceeds the largest amount the platform records")
    first = contracts[cmd.lines[0].contract_id]
    return [
        OrderPlaced(
            order_id=cmd.order_id, institution_id=cmd.institution_id, pooling_region_code=first.pooling_region_code,
            distributor_id=first.distributor_id, placed_on=cmd.placed_on, amount=amount, lines=tuple(priced),
        )
    ]


def _price(i: int, line: OrderLine, cmd: PlaceOrder, contracts: Mapping[str, ContractView]) -> OrderedLine:
    field = f"lines[{i}]"
    contract = contracts.get(line.contract_id)
    if contract is None:
        raise DomainRuleViolated(f"{field}.contract_id", f"contract {line.contract_id} is not known to orders (not signed, or not received yet)")
    if contract.institution_id != cmd.institution_id:
        raise DomainRuleViolated(f"{field}.contract_id", f"contract {line.contract_id} is not a contract of institution {cmd.institution_id}")
    if not contract.cycle_start <= cmd.placed_on <= contract.cycle_end:
        raise DomainRuleViolated(
            "placed_on", f"{cmd.placed_on} is outside the cycle {contract.cycle_start} to {contract.cycle_end} of contract {contract.contract_id}"
        )
    wrong = mismatch(contract, line.product_id, line.unit_price)
    if wrong is not None:
        raise DomainRuleViolated(f"{field}.{wrong[0]}", wrong[1])
    if line.quantity < 1:
        raise DomainRuleViolated(f"{field}.quantity", "must be at least 1")
    return OrderedLine(
        contract_id=contract.contract_id, product_id=contract.product_id, quantity=line.quantity,
        unit_price=contract.unit_price, amount=line_amount(line.quantity, contract.unit_price),
    )


def submitted(placed: OrderPlaced) -> PlaceOrder:
    """The order as the institution placed it; stated product and price are the contract's, so compare without them."""
    return PlaceOrder(
        order_id=placed.order_id, institution_id=placed.institution_id, placed_on=placed.placed_on,
        lines=tuple(OrderLine(line.contract_id, line.quantity) for line in placed.lines),
    )


def without_stated_terms(cmd: PlaceOrder) -> PlaceOrder:
    """``cmd`` without the optional product and price (checked against the contract, not part of the order's identity)."""
    return PlaceOrder(cmd.order_id, cmd.institution_id, cmd.placed_on, tuple(OrderLine(line.contract_id, line.quantity) for line in cmd.lines))


def lifecycle(history: Sequence[OrderEvent]) -> Status:
    """The order's status from its own stream (deliveries aside)."""
    if any(isinstance(e, OrderCancelled) for e in history):
        return Status.CANCELLED
    if any(isinstance(e, OrderShipped) for e in history):
        return Status.SHIPPED
    if any(isinstance(e, OrderConfirmed) for e in history):
        return Status.CONFIRMED
    return Status.PLACED


def _placed(history: Sequence[OrderEvent], order_id: str) -> OrderPlaced:
    if not history or not isinstance(history[0], OrderPlaced):
        raise DomainRuleViolated("order_id", f"no order {order_id} is placed")
    return history[0]


def confirm(history: Sequence[OrderEvent], order_id: str, confirmed_on: date) -> list[OrderEvent]:
    """The distributor confirms a placed order."""
    placed = _placed(history, order_id)
    done = next((e for e in history if isinstance(e, OrderConfirmed)), None)
    if done is not None:
        if done.confirmed_on == confirmed_on:
            return []
        raise AlreadyExists(f"order {order_id} was confirmed on {done.confirmed_on} already")
    if lifecycle(history) is Status.CANCELLED:
        raise AlreadyExists(f"order {order_id} is cancelled; it cannot be confirmed")
    if confirmed_on < placed.placed_on:
        raise DomainRuleViolated("confirmed_on", f"{confirmed_on} is before the order was placed ({placed.placed_on})")
    return [OrderConfirmed(order_id=order_id, institution_id=placed.institution_id, distributor_id=placed.distributor_id, confirmed_on=confirmed_on)]


def ship(history: Sequence[OrderEvent], order_id: str, shipped_on: date) -> list[OrderEvent]:
    """The distributor ships (配送) a confirmed order."""
    placed = _placed(history, order_id)
    done = next((e for e in history if isinstance(e, OrderShipped)), None)
    if done is not None:
        if done.shipped_on == shipped_on:
            return []
        raise AlreadyExists(f"order {order_id} was shipped on {done.shipped_on} already")
    confirmed = next((e for e in history if isinstance(e, OrderConfirmed)), None)
    if lifecycle(history) is Status.CANCELLED:
        raise AlreadyExists(f"order {order_id} is cancelled; it cannot be shipped")
    if confirmed is None:
        raise AlreadyExists(f"order {order_id} is not confirmed yet; confirm it before shipping")
    if shipped_on < confirmed.confirmed_on:
        raise DomainRuleViolated("shipped_on", f"{shipped_on} is before the order was confirmed ({confirmed.confirmed_on})")
    return [OrderShipped(order_id=order_id, institution_id=placed.institution_id, distributor_id=placed.distributor_id, shipped_on=shipped_on)]


def cancel(history: Sequence[OrderEvent], order_id: str, cancelled_on: date, reason: str) -> list[OrderEvent]:
    """The institution cancels an order that is not shipped yet."""
    placed = _placed(history, order_id)
    done = next((e for e in history if isinstance(e, OrderCancelled)), None)
    if done is not None:
        if (done.cancelled_on, done.reason) == (cancelled_on, reason):
            return []
        raise AlreadyExists(f"order {order_id} was cancelled on {done.cancelled_on} already")
    if lifecycle(history) is Status.SHIPPED:
        raise AlreadyExists(f"order {order_id} is shipped; a shipped order cannot be cancelled (return the goods instead)")
    if cancelled_on < placed.placed_on:
        raise DomainRuleViolated("cancelled_on", f"{cancelled_on} is before the order was placed ({placed.placed_on})")
    return [
        OrderCancelled(
            order_id=order_id, institution_id=placed.institution_id, distributor_id=placed.distributor_id,
            cancelled_on=cancelled_on, reason=reason,
        )
    ]


def status(stage: Status, lines: Sequence[Delivered]) -> Status:
    """What the order shows: its stage, or how much of it has arrived once shipped.

    Delivered when every line's accepted + rejected quantity reached the
    ordered quantity; partly delivered once anything arrived.
    """
    if stage is not Status.SHIPPED:
        return stage
    if lines and all(line.accepted + line.rejected >= line.ordered for line in lines):
        return Status.DELIVERED
    if any(line.accepted + line.rejected > 0 for line in lines):
        return Status.PARTLY_DELIVERED
    return Status.SHIPPED
