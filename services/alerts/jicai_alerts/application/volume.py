"""Use cases of R3 volume completion: each loads the institution's volume stream, decides, records.

Contracts and acceptances are counted as they arrive (in any order); periods are
evaluated only when the clock (``DayClosed``) reaches their end, so the same
events always give the same decisions.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from functools import partial

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters import volume_repository as volume_repo
from jicai_alerts.adapters.volume_projections import volume_stream
from jicai_alerts.domain import volume_completion as vc
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain import volume_exemptions as vx
from jicai_alerts.domain import volume_state as vs
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook
from jicai_policy.errors import PolicyError

Decide = Callable[[vs.VolumeState], list[v.VolumeEvent]]
MAX_STAGES = 64
"""A long clock jump may evaluate several period ends (and resume) in one day close."""


async def track_contract(uow: UnitOfWork, contract: v.ContractTracked, book: PolicyBook) -> None:
    """``ContractSigned``: count the contract, then catch up with the clock (where R3 is live)."""
    await _track(uow, contract.institution_id, lambda s: vc.decide_on_contract(s, contract), book)


async def track_agreement(uow: UnitOfWork, agreement: v.AgreementTracked, book: PolicyBook) -> None:
    """``YearlyAgreementSigned`` / ``YearlyAgreementRolledOver``: the agreement year's agreed volume gives its targets."""
    await _track(uow, agreement.institution_id, lambda s: vc.decide_on_agreement(s, agreement), book)


async def amend_agreement(uow: UnitOfWork, amendment: v.AgreementAmended) -> None:
    """``YearlyAgreementAmended``: the new agreed volume sets the targets of period ends from ``amended_on`` on."""
    await volume_repo.lock_institution_volume(uow, amendment.institution_id)
    await _decide(uow, amendment.institution_id, lambda s: vc.decide_on_amendment(s, amendment))


async def _track(uow: UnitOfWork, institution_id: str, decide: Decide, book: PolicyBook) -> None:
    await repo.lock_clock(uow, shared=True)
    await volume_repo.lock_institution_volume(uow, institution_id)
    await _decide(uow, institution_id, decide)
    last_closed = await repo.last_closed_day(uow)
    if last_closed is not None and book_has_go_live(book):
        day = vc.ClosedDay(last_closed.business_date, last_closed.event_id)
        await _decide(uow, institution_id, partial(_on_day_closed, day=day, book=book))


async def count_return(uow: UnitOfWork, returned: v.ReturnCounted) -> None:
    """``DeliveryReturned``: take the returned quantity off its acceptance from ``returned_on`` (decisions wait for the clock)."""
    await volume_repo.lock_institution_volume(uow, returned.institution_id)
    await repo.count_once(uow, returned, "volume", lambda counted: vc.decide_on_return(counted, returned))


async def close_day(uow: UnitOfWork, day: vc.ClosedDay, book: PolicyBook, due: Sequence[str] | None = None) -> None:
    """Evaluate every institution with a period end up to ``day`` in a region where R3 is live
    (``volume_completion_from`` in ``regions.toml``), and resume met suspensions.

    Called by the alerts day close after the clock moved. A policy error (no profile for
    the region, a year the calendar does not cover) blocks that institution only: it is
    listed in ``blocked_decisions`` as ``volume-{institution}`` and retried at the next close.
    ``due``: ``volume_repository.institutions_due`` read already under the clock lock (a quiet close reads every
    rule's in one statement).
    """
    if not book_has_go_live(book):
        return
    institutions = await volume_repo.institutions_due(uow, day.business_date) if due is None else due
    await volume_repo.lock_institution_volumes(uow, institutions)  # in one statement, then their streams in one query
    loaded = await volume_repo.load_volumes(uow, institutions)
    decide = partial(_on_day_closed, day=day, book=book)
    decided: list[str] = []
    for institution_id in institutions:
        key = volume_stream(institution_id)
        recorded, version = loaded[institution_id]
        try:
            # A savepoint only where there is something to record: a later stage's policy error takes back the earlier
            # stages' events (most due institutions, suspended ones waiting for their next period end, decide nothing).
            if first := decide(vs.fold(institution_id, recorded)):
                async with uow.session.begin_nested():
                    await _record(uow, institution_id, decide, recorded, version, first)
        except PolicyError as exc:
            await repo.record_blocked(uow, key, day.business_date, f"{type(exc).__name__}: {exc}", institution_id)
        else:
            decided.append(key)
    await repo.clear_blocked(uow, *decided)  # a suspended institution is due every day: one statement, not one each


async def grant_exemption(uow: UnitOfWork, grant: v.VolumeExemptionGranted) -> None:
    """Record the exemption; one covering the suspending period end resumes the suspension today."""
    await volume_repo.lock_institution_volume(uow, grant.institution_id)
    await _decide(uow, grant.institution_id, lambda s: vx.decide_on_grant(s, grant))
    last_closed = await repo.last_closed_day(uow)
    today = last_closed.business_date + timedelta(days=1) if last_closed else grant.from_date
    await _decide(uow, grant.institution_id, lambda s: vx.decide_resumption_by_exemption(s, grant.exemption_id, today))


async def revoke_exemption(uow: UnitOfWork, revoke: v.VolumeExemptionRevoked) -> None:
    await volume_repo.lock_institution_volume(uow, revoke.institution_id)
    await _decide(uow, revoke.institution_id, lambda s: vx.decide_on_revoke(s, revoke))


def book_has_go_live(book: PolicyBook) -> bool:
    """Whether R3 is live in any region (else the day close skips it at once)."""
    return any(entry.volume_completion_from for entries in book.regions.values() for entry in entries)


def _on_day_closed(state: vs.VolumeState, day: vc.ClosedDay, book: PolicyBook) -> list[v.VolumeEvent]:
    """R3 decides in the institution's region from its go-live on (period ends before it are never evaluated)."""
    if state.region is None:
        return []
    since = book.entry_for(state.region, on=day.business_date).volume_completion_from
    if since is None:
        return []
    return vc.decide_on_day_closed(state, day, lambda region, on: book.profile_for(region, on=on), since)


async def _decide(uow: UnitOfWork, institution_id: str, decide: Decide) -> None:
    """Decide and record stage by stage: each stage sees the event ids of the ones before."""
    recorded, version = await volume_repo.load_volume(uow, institution_id)
    if new := decide(vs.fold(institution_id, recorded)):
        await _record(uow, institution_id, decide, recorded, version, new)


async def _record(uow: UnitOfWork, institution_id: str, decide: Decide, recorded: list[vs.Recorded], version: int, new: list[v.VolumeEvent]) -> None:
    """Record ``new`` (decided over ``recorded``), then the stages after it until one decides nothing."""
    stream_id = volume_stream(institution_id)
    recorded = list(recorded)
    for _ in range(MAX_STAGES - 1):  # ``new`` is the first stage's
        stored = await repo.streams.append(uow, stream_id, "volume", version, new)
        recorded += [(event, s.event_id) for event, s in zip(new, stored, strict=True)]
        version += len(new)
        new = decide(vs.fold(institution_id, recorded))
        if not new:
            return
    raise RuntimeError(f"institution {institution_id}: volume decisions did not settle after {MAX_STAGES} stages")
