"""What a decision's why shows of the event store: the decision event as published, and the events that caused it."""
from __future__ import annotations

from datetime import date
from typing import Any

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.queries import StoredRow
from jicai_alerts.entrypoints import schemas as s
from jicai_events import Envelope
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyProfile


async def published_event(uow: UnitOfWork, stored: StoredRow) -> tuple[s.EventOut, dict[str, Any]]:
    """The integration event as published, or the domain event when the decision stays inside."""
    payload = await queries.published(uow, stored["event_id"])
    if payload is None:
        return s.EventOut(id=stored["event_id"], type=stored["event_type"], recorded_at=stored["recorded_at"]), stored["data"]
    envelope = Envelope.from_bytes(payload)
    return s.EventOut(id=envelope.id, type=envelope.type, recorded_at=stored["recorded_at"]), envelope.data


async def decision_event(uow: UnitOfWork, event_id: str, decision_id: str) -> StoredRow:
    """The stored event of a decision the read models know (absent only if the store and read models disagree)."""
    stored = await queries.stored_event(uow, t.event_tables.event_store.c.event_id == event_id)
    if stored is None:
        raise LookupError(f"decision {decision_id} has no event in the store")
    return stored


def profile_out(profile: PolicyProfile) -> dict[str, Any]:
    """The policy profile a decision applied, as its why names it."""
    return {"profile_id": profile.profile_id, "version": profile.version, "title": profile.title, "source": profile.source}


async def recorded_cause(uow: UnitOfWork, event_id: str) -> s.CauseOut:
    """A consumed event the service observed (``DayClosed``), or an alerts event (a suspension, an exemption)."""
    observed = await queries.find(uow, t.observed_events, event_id)
    if observed is not None:
        return s.CauseOut(id=event_id, type=observed["event_type"], subject=observed["subject"], date=observed["business_date"])
    stored = await queries.stored_event(uow, t.event_tables.event_store.c.event_id == event_id)
    if stored is None:
        raise LookupError(f"cause {event_id} is unknown")
    published, data = await published_event(uow, stored)
    subject = data.get("decision_id") or data.get("exemption_id") or stored["stream_id"]
    day = next((date.fromisoformat(data[k]) for k in ("suspended_from", "resumed_on", "period_end", "from_date") if k in data), None)
    return s.CauseOut(id=event_id, type=published.type, subject=subject, date=day or stored["recorded_at"].date())
