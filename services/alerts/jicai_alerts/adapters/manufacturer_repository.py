"""Event-sourced persistence of manufacturers' monthly reports: the ``manufacturer-*`` streams and the manufacturers due."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from jicai_alerts.adapters import manufacturer_projections
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.repository import advisory_lock
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain.events import decode_manufacturer
from jicai_events.unit_of_work import UnitOfWork


async def load_manufacturer(uow: UnitOfWork, manufacturer_id: str) -> tuple[list[mr.Recorded], int]:
    stored = await uow.events.load(manufacturer_projections.manufacturer_stream(manufacturer_id))
    return [(decode_manufacturer(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def lock_manufacturer(uow: UnitOfWork, manufacturer_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{manufacturer_projections.manufacturer_stream(manufacturer_id)}", shared=False)


async def manufacturers_due(uow: UnitOfWork, day: date) -> list[str]:
    """Manufacturers with a month whose due day is before ``day``."""
    mw = t.manufacturer_watch
    rows = await uow.session.execute(select(mw.c.manufacturer_id).where(mw.c.next_due_on < day).order_by(mw.c.manufacturer_id))
    return list(rows.scalars())
