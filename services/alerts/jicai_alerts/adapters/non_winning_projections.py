"""Read models of R4 non-winning purchases, folded from the ``winning-product-*`` and ``non-winning-*`` streams."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

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
        await count(session, [event])
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


async def count(session: AsyncSession, events: Sequence[n.WinningAcceptanceCounted | n.NonWinningPurchaseCounted]) -> None:
    """Counted facts update their institutions' rows from the rows themselves, not by refolding the streams: an
    acceptance only makes sure the row exists (it never makes a month pending); a purchase may bring the next month
    to evaluate forward, from the row and each earlier purchase in order (one read and one write for all).

    Acceptances and purchases commute: an acceptance's row has no months, as a missing row has none."""
    ni = t.non_winning_institutions
    purchases = [e for e in events if isinstance(e, n.NonWinningPurchaseCounted)]
    rows: dict[str, tuple[date | None, date | None]] = {}  # an institution's (next month end, last month evaluated)
    if purchases:
        found = await session.execute(
            select(ni.c.institution_id, ni.c.next_month_end, ni.c.last_month).where(ni.c.institution_id.in_(sorted({e.institution_id for e in purchases})))
        )
        rows = {institution_id: (next_end, last) for institution_id, next_end, last in found.all()}
    next_ends: dict[str, date | None] = {}
    for purchase in purchases:
        next_end, last = rows.get(purchase.institution_id, (None, None))
        next_ends[purchase.institution_id] = nw.next_month_end_counting(next_ends.get(purchase.institution_id, next_end), last, purchase)
    accepting = sorted({e.institution_id for e in events} - set(next_ends))
    await insert_rows(session, ni, [{"institution_id": i} for i in accepting], on_conflict=())
    await insert_rows(
        session, ni, [{"institution_id": i, "next_month_end": d} for i, d in sorted(next_ends.items())],
        on_conflict=["institution_id"], update=["next_month_end"],
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
