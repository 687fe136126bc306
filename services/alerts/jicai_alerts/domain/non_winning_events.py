"""Domain events of R4 non-winning purchases (非中选), internal to the alerts service.

Streams: ``winning-product-{product_id}`` (a winning product's generic group and
conversion factor) and ``non-winning-{institution_id}`` (the institution's counted
acceptances and non-winning purchases, its evaluated months and decisions).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from jicai_events.domain_events import DomainEvent


class WinningProductTracked(DomainEvent):
    """A winning product (``WinningProductListed``) with a generic group: its base units per trading unit."""

    name = "NonWinningWinningProductTracked"
    product_id: str
    generic_group_id: str
    base_units_per_trading_unit: Decimal
    product_event_id: str


class WinningAcceptanceCounted(DomainEvent):
    """An accepted delivery (``DeliveryAccepted``) of a product, converted to base units when the month is evaluated."""

    name = "NonWinningAcceptanceCounted"
    acceptance_id: str
    institution_id: str
    pooling_region_code: str
    product_id: str
    quantity: int
    accepted_on: date
    acceptance_event_id: str


class NonWinningPurchaseCounted(DomainEvent):
    """A purchase of a non-winning product (``PurchaseRecorded`` with ``winning = false``), in base units."""

    name = "NonWinningPurchaseCounted"
    purchase_id: str
    institution_id: str
    pooling_region_code: str | None
    generic_group_id: str
    base_units: Decimal
    purchased_on: date
    purchase_event_id: str


class GroupMonth(BaseModel):
    """One generic group in one evaluated month."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    generic_group_id: str
    winning_base_units: Decimal
    non_winning_base_units: Decimal
    ratio: Decimal | None
    """non-winning / winning, rounded down to 4 places; None when nothing winning was accepted."""
    exceeded: bool


class NonWinningMonthEvaluated(DomainEvent):
    """A month of the institution was evaluated (with or without decisions)."""

    name = "NonWinningMonthEvaluated"
    institution_id: str
    month: date
    """The first day of the month."""
    groups: tuple[GroupMonth, ...]
    cap_ratio: Decimal | None
    profile_id: str | None
    profile_version: int | None
    """None: the profile in force has no ``non_winning_cap`` (R4 does not apply)."""
    day_closed_event_id: str


class NonWinningPurchaseCapExceeded(DomainEvent):
    """Non-winning base units of a group above cap × the winning base units in a month."""

    name = "NonWinningPurchaseCapExceeded"
    decision_id: str
    institution_id: str
    generic_group_id: str
    month: str
    """``YYYY-MM``."""
    winning_base_units: Decimal
    non_winning_base_units: Decimal
    cap_ratio: Decimal
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]
    purchases_counted: int
    caused_by_truncated: bool


NonWinningEvent = (
    WinningAcceptanceCounted | NonWinningPurchaseCounted | NonWinningMonthEvaluated | NonWinningPurchaseCapExceeded
)
INSTITUTION_EVENTS: tuple[type[NonWinningEvent], ...] = (
    WinningAcceptanceCounted, NonWinningPurchaseCounted, NonWinningMonthEvaluated, NonWinningPurchaseCapExceeded,
)
NON_WINNING_EVENTS: tuple[type[NonWinningEvent | WinningProductTracked], ...] = (WinningProductTracked, *INSTITUTION_EVENTS)
