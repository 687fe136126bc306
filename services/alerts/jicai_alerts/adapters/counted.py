"""Which alerts streams count which facts once (``jicai_events.counted``): acceptances, purchases and returns.

``non-winning-*``, ``volume-*`` and ``kpi-*`` each count an institution's facts once (a HIS pushing a
line twice, or a republished event, counts once); the key answers it without loading the stream.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.kpi_projections import kpi_stream
from jicai_alerts.adapters.non_winning_projections import non_winning_stream
from jicai_alerts.adapters.volume_projections import volume_stream
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_events import counted
from jicai_events.counted import CountedKey
from jicai_events.domain_events import DomainEvent

CountedFact = n.WinningAcceptanceCounted | n.NonWinningPurchaseCounted | v.AcceptanceCounted | v.ReturnCounted | k.PurchaseCounted

KEYS: dict[type[CountedFact], tuple[Callable[[str], str], str]] = {
    n.WinningAcceptanceCounted: (non_winning_stream, "acceptance_id"),
    n.NonWinningPurchaseCounted: (non_winning_stream, "purchase_id"),
    v.AcceptanceCounted: (volume_stream, "acceptance_id"),
    v.ReturnCounted: (volume_stream, "return_id"),
    k.PurchaseCounted: (kpi_stream, "fact_id"),
}
"""Each counting event: the stream it is counted in (by institution), and the field naming the fact."""
COUNTED_FACTS: tuple[type[CountedFact], ...] = tuple(KEYS)
_KEYS_BY_TYPE: dict[type[DomainEvent], tuple[Callable[[str], str], str]] = {kind: key for kind, key in KEYS.items()}


def key_of(event: DomainEvent) -> CountedKey | None:
    counting = _KEYS_BY_TYPE.get(type(event))  # by exact type: an isinstance of the five kinds runs for every event of a rebuild
    if counting is None:
        return None
    stream, field = counting
    return CountedKey(stream(cast(CountedFact, event).institution_id), event.name, getattr(event, field))


async def lookup(session: AsyncSession, fact: CountedFact) -> tuple[str, set[str], int]:
    """The fact's stream, its id if that stream counted it already (else nothing), and the stream's version."""
    key = key_of(fact)
    assert key is not None, type(fact)
    is_counted, version = await counted.lookup(session, t.counted_facts, t.event_tables.event_store, key)
    return key.stream_id, ({key.fact_id} if is_counted else set()), version


async def project_many(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """``project`` for many events in one statement."""
    await counted.project_many(session, t.counted_facts, [key for event in events if (key := key_of(event)) is not None])


async def lookup_many(session: AsyncSession, keys: Sequence[CountedKey]) -> tuple[set[CountedKey], dict[str, int]]:
    """``lookup`` for many facts at once: the keys counted already, and each of their streams' versions."""
    return await counted.lookup_many(session, t.counted_facts, t.event_tables.event_store, keys)
