"""Event-sourced persistence of non-winning purchases (R4): the ``non-winning-*`` and ``winning-product-*`` streams,
the winning products and the institutions due."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.non_winning_projections import non_winning_stream, product_stream
from jicai_alerts.adapters.repository import advisory_lock
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain.events import decode_non_winning, decode_product
from jicai_events.unit_of_work import UnitOfWork


async def load_non_winning(uow: UnitOfWork, institution_id: str) -> tuple[list[nw.Recorded], int]:
    """The institution's non-winning stream with event ids, and its version."""
    stored = await uow.events.load(non_winning_stream(institution_id))
    return [(decode_non_winning(s.event_type, s.data), s.event_id) for s in stored], len(stored)


async def load_product(uow: UnitOfWork, product_id: str) -> tuple[n.WinningProductTracked | None, int]:
    """The latest tracked facts of a winning product, and its stream version."""
    stored = await uow.events.load(product_stream(product_id))
    return (decode_product(stored[-1].event_type, stored[-1].data) if stored else None), len(stored)


async def lock_institution_non_winning(uow: UnitOfWork, institution_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{non_winning_stream(institution_id)}", shared=False)


async def lock_product(uow: UnitOfWork, product_id: str) -> None:
    await advisory_lock(uow, f"jicai-alerts:{product_stream(product_id)}", shared=False)


async def winning_products(uow: UnitOfWork) -> dict[str, nw.Product]:
    """Every winning product listed with a generic group: its group and conversion factor."""
    rows = await uow.session.execute(select(t.non_winning_products))
    return {
        r["product_id"]: nw.Product(r["generic_group_id"], r["base_units_per_trading_unit"]) for r in rows.mappings()
    }


async def non_winning_institutions_due(uow: UnitOfWork, day: date) -> list[str]:
    """Institutions with a month to evaluate that ended by ``day``."""
    ni = t.non_winning_institutions
    rows = await uow.session.execute(
        select(ni.c.institution_id).where(ni.c.next_month_end <= day).order_by(ni.c.institution_id)
    )
    return list(rows.scalars())
