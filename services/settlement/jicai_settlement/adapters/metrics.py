"""Prometheus metrics of the settlement service (default registry, served by ``/metrics``)."""
from __future__ import annotations

import logging

from prometheus_client import Gauge
from sqlalchemy import distinct, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.unit_of_work import UnitOfWork
from jicai_settlement.adapters.tables import withholds

log = logging.getLogger(__name__)

WITHHELD_INSTITUTIONS = Gauge(
    "jicai_withheld_institutions", "Institutions whose monthly insurance settlement is withheld now (暂缓拨付)"
)


async def count_withheld_institutions(session: AsyncSession) -> int:
    query = select(func.count(distinct(withholds.c.institution_id))).where(withholds.c.released_on.is_(None))
    return int((await session.execute(query)).scalar_one())


async def refresh_after_commit(uow: UnitOfWork) -> None:
    """Count inside the unit of work (seeing its own changes); publish the count only once it commits."""
    count = await count_withheld_institutions(uow.session)
    event.listen(uow.session.sync_session, "after_commit", lambda _session: WITHHELD_INSTITUTIONS.set(count), once=True)


async def refresh_now(uow: UnitOfWork) -> None:
    """Set the gauge from the database (at start, before any change is seen)."""
    try:
        WITHHELD_INSTITUTIONS.set(await count_withheld_institutions(uow.session))
    except Exception:  # noqa: BLE001 - a metric must never stop the service; the next change sets it
        log.warning("could not initialise jicai_withheld_institutions", exc_info=True)
