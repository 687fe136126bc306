"""Read models of the manufacturers' monthly-report streams (Hubei 003 §五(二))."""
from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import manufacturer_report_checks, policy_book
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain.events import decode_manufacturer
from jicai_events.store import EventStore
from jicai_policy.errors import PolicyError


def manufacturer_stream(manufacturer_id: str) -> str:
    return f"manufacturer-{manufacturer_id}"


async def apply(session: AsyncSession, event: mr.ManufacturerEvent) -> None:
    if isinstance(event, mr.ManufacturerReportMissed):
        await session.execute(
            insert(t.manufacturer_report_misses).values(
                decision_id=event.decision_id, manufacturer_id=event.manufacturer_id, month=event.month, due_on=event.due_on,
                profile_id=event.profile_id, profile_version=event.profile_version, caused_by=list(event.caused_by),
            )
        )
    elif isinstance(event, mr.ManufacturerReportMissClosed):
        await session.execute(
            update(t.manufacturer_report_misses).where(t.manufacturer_report_misses.c.decision_id == event.decision_id)
            .values(closed_on=event.submitted_on, report_event_id=event.report_event_id)
        )
    await _refresh(session, event.manufacturer_id)


async def _refresh(session: AsyncSession, manufacturer_id: str) -> None:
    stored = await EventStore(session, t.event_tables).load(manufacturer_stream(manufacturer_id))
    state = mr.fold(manufacturer_id, ((decode_manufacturer(s.event_type, s.data), s.event_id) for s in stored))
    book = policy_book()
    try:
        next_due: date | None = mr.next_due_on(state, *manufacturer_report_checks(book))
    except PolicyError:
        next_due = date.min  # the day close tries it, and lists it in blocked_decisions with the reason
    await session.execute(
        insert(t.manufacturer_watch).values(manufacturer_id=manufacturer_id, next_due_on=next_due)
        .on_conflict_do_update(index_elements=["manufacturer_id"], set_={"next_due_on": next_due})
    )
