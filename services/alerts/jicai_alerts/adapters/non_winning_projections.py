"""Read models of R4 non-winning purchases, folded from the ``winning-product-*`` and ``non-winning-*`` streams."""
from __future__ import annotations

from sqlalchemy import case, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain.events import decode_non_winning
from jicai_events.store import EventStore


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


async def _count(session: AsyncSession, event: n.WinningAcceptanceCounted | n.NonWinningPurchaseCounted) -> None:
    """A counted fact moves ``next_month_end`` back to its month at most (``nw.next_month_end``: the first month
    with non-winning base units after the last evaluated one), without refolding the stream."""
    ni = t.non_winning_institutions
    statement = insert(ni).values(institution_id=event.institution_id)
    if isinstance(event, n.WinningAcceptanceCounted) or event.base_units <= nw.ZERO:
        await session.execute(statement.on_conflict_do_nothing())
        return
    month = nw.month_of(event.purchased_on)
    end = nw.month_end(month)
    after_last = ni.c.last_month.is_(None) | (ni.c.last_month < month)
    await session.execute(
        statement.values(next_month_end=end).on_conflict_do_update(
            index_elements=["institution_id"],
            set_={"next_month_end": case((after_last, func.least(ni.c.next_month_end, end)), else_=ni.c.next_month_end)},
        )
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
