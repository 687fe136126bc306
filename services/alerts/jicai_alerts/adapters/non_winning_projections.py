"""Read models of R4 non-winning purchases, folded from the ``winning-product-*`` and ``non-winning-*`` streams."""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain.events import decode_non_winning
from jicai_events.store import EventStore
from jicai_events.unnest import insert_rows


def non_winning_stream(institution_id: str) -> str:
    return f"non-winning-{institution_id}"


def product_stream(product_id: str) -> str:
    return f"winning-product-{product_id}"


async def apply(session: AsyncSession, event: n.NonWinningEvent | n.WinningProductTracked) -> None:
    if isinstance(event, n.WinningProductTracked):
        values = {"generic_group_id": event.generic_group_id, "base_units_per_trading_unit": event.base_units_per_trading_unit}
        await session.execute(
            insert(t.non_winning_products).values(product_id=event.product_id, **values)
            .on_conflict_do_update(index_elements=["product_id"], set_=values)
        )
        return
    if isinstance(event, n.WinningAcceptanceCounted | n.NonWinningPurchaseCounted):
        await _count(session, event)
        return
    if isinstance(event, n.NonWinningMonthEvaluated):
        for g in event.groups:
            await session.execute(
                insert(t.non_winning_months).values(
                    institution_id=event.institution_id, month=event.month, generic_group_id=g.generic_group_id,
                    winning_base_units=g.winning_base_units, non_winning_base_units=g.non_winning_base_units, ratio=g.ratio,
                    cap_ratio=event.cap_ratio, profile_id=event.profile_id, profile_version=event.profile_version,
                )
            )
    elif isinstance(event, n.NonWinningPurchaseCapExceeded):
        nm = t.non_winning_months
        await session.execute(
            update(nm)
            .where(
                nm.c.institution_id == event.institution_id, nm.c.generic_group_id == event.generic_group_id,
                nm.c.month == nw.month_of_label(event.month),
            )
            .values(decision_id=event.decision_id, caused_by=list(event.caused_by))
        )
    await _refresh_institution(session, event.institution_id)


async def count_acceptances(session: AsyncSession, events: Sequence[n.WinningAcceptanceCounted]) -> None:
    """``apply`` of many counted winning acceptances in one statement (they never make a month pending)."""
    institutions = sorted({e.institution_id for e in events})
    await insert_rows(session, t.non_winning_institutions, [{"institution_id": i} for i in institutions], on_conflict=())


async def _count(session: AsyncSession, event: n.WinningAcceptanceCounted | n.NonWinningPurchaseCounted) -> None:
    """A counted fact updates the institution's row from the row itself, not by refolding the stream."""
    ni = t.non_winning_institutions
    statement = insert(ni).values(institution_id=event.institution_id)
    if isinstance(event, n.WinningAcceptanceCounted):
        await session.execute(statement.on_conflict_do_nothing())  # acceptances never make a month pending
        return
    row = (await session.execute(select(ni.c.next_month_end, ni.c.last_month).where(ni.c.institution_id == event.institution_id))).first()
    next_end = nw.next_month_end_counting(row.next_month_end if row else None, row.last_month if row else None, event)
    await session.execute(
        statement.values(next_month_end=next_end).on_conflict_do_update(index_elements=["institution_id"], set_={"next_month_end": next_end})
    )


async def _refresh_institution(session: AsyncSession, institution_id: str) -> None:
    """After a month's evaluation (once a month): the next month to evaluate needs the counted purchases."""
    stored = await EventStore(session, t.event_tables).load(non_winning_stream(institution_id))
    state = nw.fold(institution_id, ((decode_non_winning(s.event_type, s.data), s.event_id) for s in stored))
    values = {"next_month_end": nw.next_month_end(state), "last_month": state.last_month}
    await session.execute(
        insert(t.non_winning_institutions).values(institution_id=institution_id, **values)
        .on_conflict_do_update(index_elements=["institution_id"], set_=values)
    )
