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
