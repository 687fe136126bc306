"""Read models of the monitoring-indicator streams (R7), folded from their domain events."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_alerts.domain import kpi_events as k
from jicai_events.unnest import insert_rows


def kpi_stream(institution_id: str) -> str:
    return f"kpi-{institution_id}"


async def apply(session: AsyncSession, event: k.KpiEvent) -> None:
    if isinstance(event, k.FilingWarningLineExceeded):
        await session.execute(
            insert(t.filing_warnings).values(
                decision_id=event.decision_id, institution_id=event.institution_id, year=event.year,
                exceeded_on=event.exceeded_on, filing_amount=event.filing_amount, warning_line=event.warning_line,
                line_source=event.line_source, profile_id=event.profile_id, profile_version=event.profile_version,
                caused_by=list(event.caused_by),
            )
        )
        return
    region = event.pooling_region_code if isinstance(event, k.PurchaseCounted | k.FilingCounted) else None
    statement = insert(t.kpi_institutions).values(institution_id=event.institution_id, pooling_region_code=region)
    if region is None:
        await session.execute(statement.on_conflict_do_nothing())
    else:
        await session.execute(statement.on_conflict_do_update(index_elements=["institution_id"], set_={"pooling_region_code": region}))


async def count_purchases(session: AsyncSession, events: Sequence[k.PurchaseCounted]) -> None:
    """``apply`` of many purchase facts in two statements at most: each institution's row takes the region of its
    last fact naming one (a fact without a region leaves the row as it is)."""
    regions = {e.institution_id: e.pooling_region_code for e in events if e.pooling_region_code is not None}
    bare = sorted({e.institution_id for e in events} - set(regions))
    if regions:
        await insert_rows(
            session, t.kpi_institutions, [{"institution_id": i, "pooling_region_code": r} for i, r in sorted(regions.items())],
            on_conflict=["institution_id"], update=["pooling_region_code"],
        )
    await insert_rows(session, t.kpi_institutions, [{"institution_id": i} for i in bare], on_conflict=())
