"""Domain events of the monitoring indicators (监测考核, R7), stream ``kpi-{institution_id}``.

The purchase facts a month's indicators are computed from (every acceptance and
recorded purchase with its channel and amount, every filing purchase), the
institution's filing-purchase warning line when the bureau sets one, and the
warning-line decisions. Internal to the alerts service.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from jicai_events.domain_events import DomainEvent


class PurchaseCounted(DomainEvent):
    """An acceptance (``DeliveryAccepted``) or a recorded purchase (``PurchaseRecorded``) of the institution."""

    name = "KpiPurchaseCounted"
    fact_id: str
    """``acceptance:{acceptance_id}`` or ``purchase:{purchase_id}``."""
    institution_id: str
    pooling_region_code: str | None
    product_id: str
    winning: bool
    channel: Literal["platform", "offline"]
    on: date
    quantity: int
    amount: Decimal
    generic_group_id: str | None
    """Known for recorded purchases; for acceptances it comes from the winning product's listing."""
    base_units: Decimal | None
    """Known for recorded purchases; for acceptances: quantity × the product's factor, when listed with a group."""
    event_id: str


class FilingCounted(DomainEvent):
    """A filing purchase (备案采购, ``FilingPurchaseRecorded``)."""

    name = "KpiFilingCounted"
    filing_id: str
    institution_id: str
    pooling_region_code: str
    amount: Decimal
    purchased_on: date
    event_id: str


class FilingWarningLineSet(DomainEvent):
    """The bureau set the institution's filing-purchase amount warning line (设置备案采购金额预警线) from ``from_year`` on."""

    name = "KpiFilingWarningLineSet"
    institution_id: str
    amount: Decimal
    from_year: int
    set_by: str
    reason: str


class FilingWarningLineExceeded(DomainEvent):
    """The year's filing purchases went over the warning line (预警)."""

    name = "KpiFilingWarningLineExceeded"
    decision_id: str
    institution_id: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]
    year: int
    exceeded_on: date
    filing_amount: Decimal
    warning_line: Decimal
    line_source: Literal["profile", "institution"]


KpiEvent = PurchaseCounted | FilingCounted | FilingWarningLineSet | FilingWarningLineExceeded
KPI_EVENTS: tuple[type[KpiEvent], ...] = (PurchaseCounted, FilingCounted, FilingWarningLineSet, FilingWarningLineExceeded)
