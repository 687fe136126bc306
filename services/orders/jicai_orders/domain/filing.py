"""Filing purchases (备案采购): a product not listed on the platform, bought after filing (shortage, emergency).

Liangjiang 002 §二(三) sets a warning line (预警线) on an institution's filing
amount; R7 monitors it. Orders records each filing purchase once (idempotent
by filing id) in the institution's pooling region and shows the year's filing
amount against the line of the profile in force (the alert and the KPI are
the alerts service's).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_orders.domain.amounts import LARGEST_AMOUNT, line_amount
from jicai_orders.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_orders.domain.events import FilingPurchaseRecorded
from jicai_policy import PolicyProfile


@dataclass(frozen=True)
class RecordFiling:
    filing_id: str
    institution_id: str
    generic_name: str
    specification: str
    manufacturer_name: str
    quantity: int
    unit_price: Decimal
    purchased_on: date
    filed_on: date
    reason: str


@dataclass(frozen=True)
class Standing:
    """An institution's filing amount in one year against its profile's warning line."""

    year: int
    amount: Decimal
    profile_id: str
    profile_version: int
    warning_line_enabled: bool
    warning_line: Decimal | None
    """None: no line in the profile (disabled, or set per institution by the bureau)."""
    over_line: bool | None
    """None when there is no line to compare with."""


def record(history: Sequence[FilingPurchaseRecorded], cmd: RecordFiling, pooling_region_code: str | None) -> list[FilingPurchaseRecorded]:
    """Decide: record ``cmd`` once; its region is the institution's, as known from its contracts."""
    if history:
        if _submitted(history[0]) == cmd:
            return []
        raise AlreadyExists(f"filing purchase {cmd.filing_id} is recorded already with different content")
    if pooling_region_code is None:
        raise DomainRuleViolated(
            "institution_id", f"no contract of institution {cmd.institution_id} is known to orders, so its pooling region is unknown"
        )
    if cmd.quantity < 1:
        raise DomainRuleViolated("quantity", "must be at least 1")
    amount = line_amount(cmd.quantity, cmd.unit_price)
    if amount > LARGEST_AMOUNT:
        raise DomainRuleViolated("quantity", f"the amount {amount} exceeds the largest amount the platform records")
    return [
        FilingPurchaseRecorded(
            filing_id=cmd.filing_id, institution_id=cmd.institution_id, pooling_region_code=pooling_region_code,
            generic_name=cmd.generic_name, specification=cmd.specification, manufacturer_name=cmd.manufacturer_name,
            quantity=cmd.quantity, unit_price=cmd.unit_price, amount=amount, purchased_on=cmd.purchased_on, filed_on=cmd.filed_on,
            reason=cmd.reason,
        )
    ]


def _submitted(recorded: FilingPurchaseRecorded) -> RecordFiling:
    return RecordFiling(
        recorded.filing_id, recorded.institution_id, recorded.generic_name, recorded.specification, recorded.manufacturer_name,
        recorded.quantity, recorded.unit_price, recorded.purchased_on, recorded.filed_on, recorded.reason,
    )


def standing(year: int, amount: Decimal, profile: PolicyProfile) -> Standing:
    """The year's filing amount against ``profile``'s warning line (R7), when the profile sets one."""
    rule = profile.filing_purchase
    enabled = rule is not None and rule.warning_line_enabled
    line = rule.amount_warning_line if rule is not None and enabled else None
    return Standing(
        year=year, amount=amount, profile_id=profile.profile_id, profile_version=profile.version,
        warning_line_enabled=enabled, warning_line=line, over_line=None if line is None else amount > line,
    )
