"""Event-sourced persistence of volume completion (R3): the ``volume-*`` streams and the institutions due."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.repository import advisory_lock, load_streams, lock_many
from jicai_alerts.adapters.volume_projections import volume_stream
from jicai_alerts.domain.events import decode_volume
from jicai_alerts.domain.volume_state import Recorded
from jicai_events.unit_of_work import UnitOfWork


async def load_volume(uow: UnitOfWork, institution_id: str) -> tuple[list[Recorded], int]:
    """The institution's volume stream with event ids, and its version."""
    stored = await uow.events.load(volume_stream(institution_id))
    return [(decode_volume(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def load_volumes(uow: UnitOfWork, institution_ids: Sequence[str]) -> dict[str, tuple[list[Recorded], int]]:
    """``load_volume`` for many institutions in one query."""
    loaded = await load_streams(uow, [volume_stream(institution_id) for institution_id in institution_ids], decode_volume)
    return {institution_id: loaded[volume_stream(institution_id)] for institution_id in institution_ids}


async def lock_institution_volume(uow: UnitOfWork, institution_id: str) -> None:
    await advisory_lock(uow, volume_lock(institution_id), shared=False)


async def lock_institution_volumes(uow: UnitOfWork, institution_ids: Sequence[str]) -> None:
    """``lock_institution_volume`` for many institutions in one statement (sorted: no deadlock between two)."""
    await lock_many(uow, [volume_lock(institution_id) for institution_id in institution_ids])


def volume_lock(institution_id: str) -> str:
    return f"jicai-alerts:{volume_stream(institution_id)}"


async def institutions_due(uow: UnitOfWork, day: date) -> list[str]:
    """Institutions with a period end up to ``day`` to evaluate, or a suspension that may be resumed."""
    vi = t.volume_institutions
    rows = await uow.session.execute(
        select(vi.c.institution_id)
        .where((vi.c.next_period_end <= day) | vi.c.suspension_decision_id.is_not(None))
        .order_by(vi.c.institution_id)
    )
    return list(rows.scalars())
