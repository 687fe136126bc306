"""Business time (营业日) as an explicit input: the ``DayClosed`` events.

Only a day later than the last closed one moves the clock; an older or
repeated ``DayClosed`` changes nothing. Decisions never read the wall clock.
"""
from __future__ import annotations

from datetime import date

from jicai_alerts.domain.events import BusinessDayClosed
from jicai_alerts.domain.invoice_obligation import ClosedDay


def close(last_closed_on: date | None, day: ClosedDay) -> list[BusinessDayClosed]:
    """Decide: the clock moves to ``day`` only if it is later than the last closed day."""
    if last_closed_on is not None and day.business_date <= last_closed_on:
        return []
    return [BusinessDayClosed(business_date=day.business_date, day_closed_event_id=day.event_id)]
