"""Use cases of the monitoring indicators (监测考核, R7): count purchase facts as they arrive, decide the
filing-purchase warning line, and compute a month's indicators from the events on request.

Indicators are not stored: each query folds the month's facts from the event store
(the kpi, volume and invoice streams) through the pure ``kpis.compute``, so a late
fact changes the month it is dated in, and the same events always give the same values.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from jicai_alerts.adapters import kpi_repository as kpi_repo
from jicai_alerts.adapters import non_winning_repository as non_winning_repo
from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters import volume_repository as volume_repo
from jicai_alerts.adapters.kpi_projections import kpi_stream
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import kpis
from jicai_alerts.domain import volume_periods as vp
from jicai_alerts.domain import volume_state as vs
from jicai_alerts.domain.non_winning import Product, month_end
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook, PolicyProfile
from jicai_policy.errors import PolicyError

Decide = Callable[[kpis.KpiState], list[k.KpiEvent]]
MONTHS_PER_TARGET = 1
"""Volume completion as an indicator: the agreement year's volume split by month (R3 decides by quarter)."""


@dataclass(frozen=True)
class InstitutionMonth:
    institution_id: str
    pooling_region_code: str | None
    profile: PolicyProfile | None
    values: list[kpis.KpiValue]


async def count_purchase(uow: UnitOfWork, purchase: k.PurchaseCounted) -> None:
    """``DeliveryAccepted`` / ``PurchaseRecorded``: a purchase fact of its month (channel, amount, base units).

    No institution lock: these come from the orders topic, keyed by institution (one consumer counts them in
    order); the stream's version check, retried, covers a line set by the bureau at the same moment."""
    await repo.count_once(uow, purchase, "kpi", lambda counted: kpis.decide_on_purchase(counted, purchase))


async def count_filing(uow: UnitOfWork, filing: k.FilingCounted, book: PolicyBook) -> None:
    """``FilingPurchaseRecorded``: count it; the year going over the warning line is decided at once."""
    await kpi_repo.lock_institution_kpi(uow, filing.institution_id)
    await _decide(uow, filing.institution_id, lambda s: kpis.decide_on_filing(s, filing))
    await _decide(uow, filing.institution_id, lambda s: kpis.decide_warning_lines(s, _profile_for(book)))


async def set_warning_line(uow: UnitOfWork, line: k.FilingWarningLineSet, book: PolicyBook) -> None:
    """The bureau sets the institution's line (预警线 set per institution); filings already over it are decided."""
    await kpi_repo.lock_institution_kpi(uow, line.institution_id)
    await _decide(uow, line.institution_id, lambda s: kpis.decide_on_line(s, line))
    await _decide(uow, line.institution_id, lambda s: kpis.decide_warning_lines(s, _profile_for(book)))


async def institution_month(uow: UnitOfWork, institution_id: str, month: date, book: PolicyBook) -> InstitutionMonth:
    """The institution's indicators of ``month`` (its first day) under the profile in force on the month's last day."""
    due = await kpi_repo.invoices_due_between(uow, institution_id, month, month_end(month))
    return await _institution_month(uow, institution_id, month, book, due.get(institution_id, []), await non_winning_repo.winning_products(uow))


async def every_institution_month(uow: UnitOfWork, month: date, book: PolicyBook) -> list[InstitutionMonth]:
    due = await kpi_repo.invoices_due_between(uow, None, month, month_end(month))
    products = await non_winning_repo.winning_products(uow)
    return [
        await _institution_month(uow, institution_id, month, book, due.get(institution_id, []), products)
        for institution_id in await kpi_repo.kpi_institutions(uow)
    ]


async def _institution_month(
    uow: UnitOfWork, institution_id: str, month: date, book: PolicyBook, due: list[kpis.InvoiceDue], products: dict[str, Product]
) -> InstitutionMonth:
    last = month_end(month)
    state = kpis.fold(institution_id, (await kpi_repo.load_kpi(uow, institution_id))[0])
    volume = vs.fold(institution_id, (await volume_repo.load_volume(uow, institution_id))[0])
    region = state.region_on(last) or volume.region or await kpi_repo.invoice_region(uow, institution_id)
    try:
        profile = book.profile_for(region, on=last) if region else None
    except PolicyError:
        profile = None
    if profile is None or profile.kpis is None:
        return InstitutionMonth(institution_id, region, profile, [])
    line = kpis.warning_line(state, month.year, profile)
    facts = kpis.MonthFacts(
        institution_id=institution_id, month=month, volume=vp.completion(volume, last, MONTHS_PER_TARGET)[1],
        invoices_due=tuple(sorted(due, key=lambda i: (i.deadline, i.invoice_id))), purchases=state.purchases_in(month),
        filings=tuple(f for f, _ in state.filings_between(month, last)),
        filing_year_to_date=sum((f.amount for f, _ in state.filings_between(date(month.year, 1, 1), last)), kpis.ZERO),
        warning_line=line[0] if line else None, products=products,
    )
    indicators = [i for i in profile.kpis.indicators if i in kpis.COMPUTED]
    return InstitutionMonth(institution_id, region, profile, kpis.compute(facts, indicators))


def _profile_for(book: PolicyBook) -> kpis.ProfileFor:
    return lambda region, on: book.profile_for(region, on=on)


async def _decide(uow: UnitOfWork, institution_id: str, decide: Decide) -> None:
    """Filings and lines: their decisions never read the purchase facts, which are not loaded."""
    recorded, version = await kpi_repo.load_kpi(uow, institution_id, purchases=False)
    new = decide(kpis.fold(institution_id, recorded))
    if new:
        await repo.streams.append(uow, kpi_stream(institution_id), "kpi", version, new)

