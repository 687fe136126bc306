"""Use cases of the manufacturers' monthly report (Hubei 003 §五(二)): contracts and reports counted as they
arrive, months checked by the day close after their due day."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from jicai_alerts.adapters import manufacturer_repository as manufacturer_repo
from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.manufacturer_projections import manufacturer_stream
from jicai_alerts.adapters.policy import manufacturer_report_checks
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain.volume_completion import ClosedDay
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook
from jicai_policy.errors import PolicyError

Decide = Callable[[mr.ManufacturerState], list[mr.ManufacturerEvent]]


async def track_contract(uow: UnitOfWork, contract: mr.ManufacturerContractTracked) -> None:
    """``ContractSigned``: the manufacturer owes reports for the months of the cycle (caller sets ``known_after``)."""
    await manufacturer_repo.lock_manufacturer(uow, contract.manufacturer_id)
    await _decide(uow, contract.manufacturer_id, lambda s: mr.decide_on_contract(s, contract))


async def count_report(uow: UnitOfWork, report: mr.ManufacturerReportCounted) -> None:
    """``ManufacturerReportSubmitted``: count it; a late one closes the month's miss."""
    await manufacturer_repo.lock_manufacturer(uow, report.manufacturer_id)
    await _decide(uow, report.manufacturer_id, lambda s: mr.decide_on_report(s, report))


async def close_day(uow: UnitOfWork, day: ClosedDay, book: PolicyBook, due: Sequence[str] | None = None) -> None:
    """Check the months whose due day is before ``day`` (called by the day close, clock locked; ``due``: those
    manufacturers read already under the lock). A policy error blocks that manufacturer only (``manufacturer-{id}`` in
    ``blocked_decisions``)."""
    decided: list[str] = []
    for manufacturer_id in await manufacturer_repo.manufacturers_due(uow, day.business_date) if due is None else due:
        key = manufacturer_stream(manufacturer_id)
        try:
            async with uow.session.begin_nested():
                await manufacturer_repo.lock_manufacturer(uow, manufacturer_id)
                await _decide(uow, manufacturer_id, lambda s: mr.decide_on_day_closed(s, day, *manufacturer_report_checks(book)))
        except PolicyError as exc:
            await repo.record_blocked(uow, key, day.business_date, f"{type(exc).__name__}: {exc}", "")
        else:
            decided.append(key)
    await repo.clear_blocked(uow, *decided)


async def _decide(uow: UnitOfWork, manufacturer_id: str, decide: Decide) -> None:
    recorded, version = await manufacturer_repo.load_manufacturer(uow, manufacturer_id)
    new = decide(mr.fold(manufacturer_id, recorded))
    if new:
        await repo.streams.append(uow, manufacturer_stream(manufacturer_id), "manufacturer", version, new)
