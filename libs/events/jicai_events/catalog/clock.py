"""Time as an explicit input: the business day that has just ended.

A scheduler publishes ``DayClosed`` after midnight Asia/Shanghai in
production; tests publish it directly to move time forward without sleeping.
Decisions depend on these events, never on the wall clock, so replaying the
same events always yields the same decisions.
"""
from __future__ import annotations

from datetime import date

from jicai_events.base import IntegrationEvent, integration_event

CLOCK_KEY = "clock"


@integration_event
class DayClosed(IntegrationEvent):
    """Business day ``business_date`` (Asia/Shanghai) has ended."""

    source_service = "clock"
    event_name = "DayClosed"
    business_date: date

    def partition_key(self) -> str:
        return CLOCK_KEY

    def subject(self) -> str:
        return self.business_date.isoformat()


class DayCloseReached(IntegrationEvent):
    """Watermark (水位标记): the producing service learned that ``business_date`` closed.

    Its relay publishes one to every partition of the service's topic, through
    the outbox, after every fact the service had acknowledged before it learned
    of the close: a consumer that has read this marker on a partition has read
    all those facts there. A consumer that decides by business day (alerts)
    decides day X only once it holds markers ≥ X from every partition of every
    topic it reads, so a payment recorded on time can never be overtaken by the
    close of its deadline day. One subclass per producing service (its topic).
    """

    event_name = "DayCloseReached"
    business_date: date
    day_closed_event_id: str

    def partition_key(self) -> str:
        return CLOCK_KEY

    def subject(self) -> str:
        return self.business_date.isoformat()


@integration_event
class ContractsDayCloseReached(DayCloseReached):
    source_service = "contracts"


@integration_event
class OrdersDayCloseReached(DayCloseReached):
    source_service = "orders"


@integration_event
class SettlementDayCloseReached(DayCloseReached):
    source_service = "settlement"


@integration_event
class AlertsDayCloseReached(DayCloseReached):
    source_service = "alerts"


@integration_event
class PolicyDayCloseReached(DayCloseReached):
    """On the policy topic, published by its writer (contracts): a go-live set before the close is read before it."""

    source_service = "policy"


DAY_CLOSE_MARKERS: dict[str, type[DayCloseReached]] = {
    m.source_service: m
    for m in (ContractsDayCloseReached, OrdersDayCloseReached, SettlementDayCloseReached, AlertsDayCloseReached, PolicyDayCloseReached)
}
"""The watermark marker each producing service publishes on its own topic."""
