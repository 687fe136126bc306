"""Purchases (采购) that are not acceptances against a VBP contract: one HIS line, one stream.

A HIS reports what its institution bought besides its contracts' deliveries:
non-winning products (非中选) of a generic group, and purchases made outside
the platform (线下采购, channel ``offline``). They feed the R4 limit (a
group's non-winning quantity, in base units, must not exceed its winning
quantity) and the R7 KPIs (non-winning share, offline share).

Like acceptances, a line is recorded at most once: the same external_id
with the same content is ``Duplicate``; with other content it is refused.
A line the platform cannot place is ``Rejected`` with the reason and may be
pushed again once corrected: a product orders does not know (yet), a product
in no generic group (its quantity cannot be converted to base units), a
winning product bought on the platform (that is an acceptance against its
contract), or an institution with no contract known to orders (its pooling
region is unknown).

base_units = quantity × the product's base units per trading unit (exact);
amount = quantity × unit_price, rounded to the fen half up.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_orders.domain.amounts import LARGEST_AMOUNT, line_amount
from jicai_orders.domain.events import PurchaseRecorded
from jicai_orders.domain.reference import ProductView

CONFLICTING = "conflicts with the purchase recorded earlier"
MAX_ID_LENGTH = 64
PLATFORM = "platform"
OFFLINE = "offline"


@dataclass(frozen=True)
class PurchaseLine:
    """One line of a HIS purchase report, as the institution reported it."""

    external_id: str
    product_id: str
    quantity: int
    unit_price: Decimal
    purchased_on: date
    channel: str


@dataclass(frozen=True)
class Recorded:
    event: PurchaseRecorded


@dataclass(frozen=True)
class Duplicate:
    purchase_id: str


@dataclass(frozen=True)
class Rejected:
    reason: str


Decision = Recorded | Duplicate | Rejected


def purchase_id(institution_id: str, external_id: str) -> str:
    """The platform's id of a purchase: unique because external ids are unique per institution."""
    return f"{institution_id}:{external_id}"


def base_units(quantity: int, factor: Decimal) -> Decimal:
    """quantity trading units in the group's base unit (exact: the factor has at most 4 places)."""
    return (Decimal(quantity) * factor).quantize(Decimal("0.0001"))


def record(
    history: Sequence[PurchaseRecorded],
    institution_id: str,
    line: PurchaseLine,
    product: ProductView | None,
    pooling_region_code: str | None,
) -> Decision:
    """Decide one purchase line reported by ``institution_id``, given its stream, the product and the region."""
    if history:
        return _repeat(history[0], institution_id, line)
    pid = purchase_id(institution_id, line.external_id)
    if len(pid) > MAX_ID_LENGTH:
        return Rejected(f"the purchase id {pid} would be longer than {MAX_ID_LENGTH} characters")
    if product is None:
        return Rejected(f"unknown product {line.product_id}: not listed, or not received by orders yet; push it again later")
    if product.generic_group_id is None or product.base_units_per_trading_unit is None:
        return Rejected(f"product {line.product_id} belongs to no generic group: its quantity cannot be converted to base units")
    if product.winning and line.channel == PLATFORM:
        return Rejected(
            f"product {line.product_id} is a winning product bought on the platform: push it as an acceptance against its contract"
        )
    if pooling_region_code is None:
        return Rejected(f"institution {institution_id} has no contract known to orders, so its pooling region is unknown")
    if line.quantity < 1:
        return Rejected("quantity must be at least 1")
    amount = line_amount(line.quantity, line.unit_price)
    if amount > LARGEST_AMOUNT:
        return Rejected(f"amount {amount} exceeds the largest amount the platform records")
    return Recorded(
        PurchaseRecorded(
            purchase_id=pid,
            external_id=line.external_id,
            institution_id=institution_id,
            pooling_region_code=pooling_region_code,
            product_id=line.product_id,
            generic_group_id=product.generic_group_id,
            winning=product.winning,
            channel=line.channel,
            quantity=line.quantity,
            base_units=base_units(line.quantity, product.base_units_per_trading_unit),
            unit_price=line.unit_price,
            amount=amount,
            purchased_on=line.purchased_on,
        )
    )


def _repeat(recorded: PurchaseRecorded, institution_id: str, line: PurchaseLine) -> Decision:
    if (recorded.institution_id, recorded.external_id) != (institution_id, line.external_id):
        return Rejected(f"external_id clashes with purchase {recorded.purchase_id}; use another external_id")
    if reported(recorded) == line:
        return Duplicate(recorded.purchase_id)
    return Rejected(CONFLICTING)


def reported(recorded: PurchaseRecorded) -> PurchaseLine:
    """The line as the HIS reported it (what a repeated push is compared with)."""
    return PurchaseLine(
        external_id=recorded.external_id,
        product_id=recorded.product_id,
        quantity=recorded.quantity,
        unit_price=recorded.unit_price,
        purchased_on=recorded.purchased_on,
        channel=recorded.channel,
    )
