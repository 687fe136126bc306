"""Use case: deliveries accepted (验收) count in three streams of their institution, set-based.

Each ``DeliveryAccepted`` is counted once in the institution's ``non-winning-*``
stream (R4: base units compared at the month's end), its ``volume-*`` stream
(R3: the agreed volume) and its ``kpi-*`` stream (R7: the month's purchases).
A run of them (one consumer batch, or one alone) is counted with one lookup of
every key and one write of everything decided: the decisions are those of
counting them one after the other, since each depends only on whether its key
was counted before.

No per-fact institution lock beyond the volume one: facts are counted only from
the orders topic, keyed by institution, so one consumer counts an institution's
facts in order; the day close excludes them by the clock lock (taken first, in
the day close's order), and the streams' version check (retried) covers a
partition moving between consumers.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.volume_projections import volume_stream
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import kpis
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_completion as vc
from jicai_alerts.domain import volume_events as v
from jicai_events import Envelope
from jicai_events.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class AcceptanceCounted:
    """What one accepted delivery counts in each of the three streams."""

    winning: n.WinningAcceptanceCounted
    volume: v.AcceptanceCounted
    purchase: k.PurchaseCounted


async def count_acceptances(uow: UnitOfWork, accepted: Sequence[tuple[AcceptanceCounted, Envelope | None]]) -> None:
    """Count each acceptance once per stream, in the order given (``Envelope``: the consumed event each answers;
    None: the unit of work's)."""
    await repo.lock_clock(uow, shared=True)
    await repo.lock_many(uow, [f"jicai-alerts:{volume_stream(a.volume.institution_id)}" for a, _ in accepted])
    # Stream by stream (R4, then R3, then R7): each stream's facts keep their order, and each kind's read
    # models are written in one statement; a key never depends on another stream's.
    await repo.count_many(uow, [
        *((a.winning, "non-winning", lambda counted, a=a: nw.decide_on_acceptance(counted, a.winning), cause) for a, cause in accepted),
        *((a.volume, "volume", lambda counted, a=a: vc.decide_on_acceptance(counted, a.volume), cause) for a, cause in accepted),
        *((a.purchase, "kpi", lambda counted, a=a: kpis.decide_on_purchase(counted, a.purchase), cause) for a, cause in accepted),
    ])
