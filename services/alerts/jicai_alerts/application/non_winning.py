"""Use cases of R4 non-winning purchases (非中选): count facts as they arrive, decide when a month closes.

Winning products, acceptances and non-winning purchases are counted in any order;
months are evaluated only when the clock (``DayClosed``) passes their last day, so the
same events give the same decisions however the days are closed.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from jicai_alerts.adapters import non_winning_repository as non_winning_repo
from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.non_winning_projections import non_winning_stream, product_stream
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain.volume_completion import ClosedDay
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook
from jicai_policy.errors import PolicyError

Decide = Callable[[nw.NonWinningState], list[n.NonWinningEvent]]


async def track_product(uow: UnitOfWork, product: n.WinningProductTracked) -> None:
    """``WinningProductListed`` with a generic group and factor: remember them for conversion.

    A listing counts for months evaluated after it: a month already evaluated stays as decided."""
    await repo.lock_clock(uow, shared=True)
    await non_winning_repo.lock_product(uow, product.product_id)
    known, version = await non_winning_repo.load_product(uow, product.product_id)
    new = nw.decide_on_product(known, product)
    if new:
        await repo.streams.append(uow, product_stream(product.product_id), "winning-product", version, new)


async def count_purchase(uow: UnitOfWork, purchase: n.NonWinningPurchaseCounted) -> None:
    """``PurchaseRecorded`` with ``winning = false``: count its base units by its date.

    No institution lock: facts are counted only from the orders topic, keyed by institution, so one
    consumer counts an institution's facts in order; the day close excludes them by the clock lock,
    and the stream's version check (retried) covers a partition moving between consumers
    (acceptances: ``application.acceptances``)."""
    await repo.lock_clock(uow, shared=True)
    await repo.count_once(uow, purchase, "non-winning", lambda counted: nw.decide_on_purchase(counted, purchase))


async def close_day(uow: UnitOfWork, day: ClosedDay, book: PolicyBook, due: Sequence[str] | None = None) -> None:
    """Evaluate every institution with a month ended by ``day`` (called by the day close, clock locked; ``due``: those
    institutions read already under the lock).

    A policy error (no profile for the region) blocks that institution only: it is listed in
    ``blocked_decisions`` as ``non-winning-{institution}`` and retried at the next close.
    """
    institutions = await non_winning_repo.non_winning_institutions_due(uow, day.business_date) if due is None else due
    if not institutions:
        return
    products = await non_winning_repo.winning_products(uow)
    decided: list[str] = []
    for institution_id in institutions:
        key = non_winning_stream(institution_id)
        try:
            async with uow.session.begin_nested():
                await non_winning_repo.lock_institution_non_winning(uow, institution_id)
                await _decide(uow, institution_id, lambda s: _on_day_closed(s, day, products, book))
        except PolicyError as exc:
            await repo.record_blocked(uow, key, day.business_date, f"{type(exc).__name__}: {exc}", institution_id)
        else:
            decided.append(key)
    await repo.clear_blocked(uow, *decided)


def _on_day_closed(
    state: nw.NonWinningState, day: ClosedDay, products: Mapping[str, nw.Product], book: PolicyBook
) -> list[n.NonWinningEvent]:
    return nw.decide_on_day_closed(
        state, day, products, lambda region, on: book.profile_for(region, on=on),
        lambda region, on: book.entry_for(region, on=on).non_winning_cap_from,
    )


async def _decide(uow: UnitOfWork, institution_id: str, decide: Decide) -> None:
    recorded, version = await non_winning_repo.load_non_winning(uow, institution_id)
    new = decide(nw.fold(institution_id, recorded))
    if new:
        await repo.streams.append(uow, non_winning_stream(institution_id), "non-winning", version, new)
