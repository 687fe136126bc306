"""Use cases of prepayments (医保预付, R5): contract facts noted, schedules kept, disbursements and liquidation recorded.

The schedule's basis is loaded from the event store: the agreements of the
prepayment stream, the contract streams they belong to (cycle, acceptances) and
the institution's monthly settlements of the previous year. Only the invoice
amounts of the liquidation come from the invoices read model (one row per
invoice, written in the same transactions as the invoice streams).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import func, select

from jicai_events.types import BUSINESS_TZ
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook, PolicyProfile
from jicai_policy.errors import PolicyError
from jicai_settlement.adapters import repository as repo
from jicai_settlement.adapters import tables as t
from jicai_settlement.domain import contract, settlement_state
from jicai_settlement.domain import prepayment as p
from jicai_settlement.domain import prepayment_schedule as schedule
from jicai_settlement.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_settlement.domain.events import (
    AcceptanceNoted,
    AgreementAmendmentNoted,
    AgreementNoted,
    ContractCycleMoved,
    ContractEvent,
    ContractNoted,
    InstitutionSettlementEvent,
    PrepaymentEvent,
    ReturnNoted,
)

# ---- contract facts -------------------------------------------------------------------


async def note_contract(uow: UnitOfWork, noted: ContractNoted) -> bool:
    def decide(history: Sequence[ContractEvent]) -> list[ContractEvent]:
        known = contract.fold_contract(history).noted
        if known is None:
            return [noted]
        if known == noted:
            return []
        raise AlreadyExists(f"contract {noted.contract_id} was signed already with different details")

    return await _decide_for_contract(uow, noted.contract_id, decide)


async def move_cycle(uow: UnitOfWork, moved: ContractCycleMoved) -> bool:
    def decide(history: Sequence[ContractEvent]) -> list[ContractEvent]:
        state = contract.fold_contract(history)
        if state.noted is None:
            raise DomainRuleViolated("contract_id", f"contract {moved.contract_id} is unknown to settlement (no ContractSigned)")
        return [] if state.cycle_end == moved.cycle_end else [moved]

    return await _decide_for_contract(uow, moved.contract_id, decide)


async def note_acceptance(uow: UnitOfWork, accepted: AcceptanceNoted) -> bool:
    """Count the acceptance once in its contract stream (by its key: the stream is not loaded)."""
    return await repo.count_once(uow, accepted)


async def note_return(uow: UnitOfWork, returned: ReturnNoted) -> bool:
    """Count the return once in its contract stream (by its key: the stream is not loaded)."""
    return await repo.count_once(uow, returned)


async def _decide_for_contract(uow: UnitOfWork, contract_id: str, decide: Callable[[Sequence[ContractEvent]], list[ContractEvent]]) -> bool:
    stream = repo.contract_stream(contract_id)
    history, version = await repo.streams.load(uow, stream)
    new = decide(cast(list[ContractEvent], history))
    await repo.streams.append(uow, stream, "contract", version, new)
    return bool(new)


# ---- schedules ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """A prepayment stream with everything its schedule is computed from."""

    stream: str
    version: int
    history: list[PrepaymentEvent]
    state: schedule.Schedule
    profile: PolicyProfile
    region: str
    basis: schedule.Basis


async def note_agreement(uow: UnitOfWork, noted: AgreementNoted, book: PolicyBook) -> bool:
    """A yearly agreement signed or rolled over: it joins the schedule of the year it starts in, which is recomputed."""
    stream = repo.prepayment_stream(schedule.schedule_id(noted.institution_id, noted.year_start.year))
    return await _reschedule(uow, stream, book, lambda history: p.note_agreement(history, noted))


async def amend_agreement(uow: UnitOfWork, amended: AgreementAmendmentNoted, book: PolicyBook) -> bool:
    row = await repo.find(uow, t.prepayment_agreements, amended.agreement_id)
    if row is None:
        raise DomainRuleViolated("agreement_id", f"agreement {amended.agreement_id} is unknown to settlement (no YearlyAgreementSigned)")
    return await _reschedule(uow, repo.prepayment_stream(row["schedule_id"]), book, lambda history: p.note_amendment(history, amended))


async def _reschedule(
    uow: UnitOfWork, stream: str, book: PolicyBook, decide: Callable[[Sequence[PrepaymentEvent]], list[PrepaymentEvent]]
) -> bool:
    history, version = await repo.streams.load(uow, stream)
    past = cast(list[PrepaymentEvent], history)
    new = decide(past)
    if new:
        state = schedule.fold([*past, *new])
        # A policy error escapes as itself: the agreement passed contracts' door, so this service's book is behind
        # (the runtime retries it until the region's assignment is folded, PolicyNotFolded), never a dead letter.
        profile = _region_profile(book, state)
        new = p.reschedule(state, new, profile, await _basis(uow, state, None))
    await repo.streams.append(uow, stream, "prepayment", version, new)
    return bool(new)


async def load(uow: UnitOfWork, book: PolicyBook, institution_id: str, year: int, stated: Decimal | None = None) -> Loaded | None:
    """The institution's schedule of ``year`` with its basis; None when no agreement of that year is known."""
    stream = repo.prepayment_stream(schedule.schedule_id(institution_id, year))
    history, version = await repo.streams.load(uow, stream)
    past = cast(list[PrepaymentEvent], history)
    state = schedule.fold(past)
    if not state.agreements:
        return None
    profile = _profile(book, state)
    region = next(iter(state.agreements.values())).pooling_region_code
    p.require_prepayment(profile, region)
    basis = await _basis(uow, state, stated if stated is not None else state.stated_fund_payment)
    return Loaded(stream, version, past, state, profile, region, basis)


async def load_year(uow: UnitOfWork, book: PolicyBook, year: int, pooling_region_code: str | None = None) -> list[tuple[str, Loaded]]:
    """Every institution's schedule of ``year`` (agreements starting in it), optionally of one pooling region, by institution;
    institutions whose profile has no prepayment are left out."""
    pa = t.prepayment_agreements
    query = select(pa.c.institution_id).where(pa.c.year_start >= date(year, 1, 1), pa.c.year_start <= date(year, 12, 31)).distinct()
    schedules = []
    for institution_id in sorted((await uow.session.execute(query)).scalars()):
        try:
            loaded = await load(uow, book, institution_id, year)
        except DomainRuleViolated:
            continue  # no prepayment in this institution's profile
        if loaded is not None and pooling_region_code in (None, loaded.region):
            schedules.append((institution_id, loaded))
    return schedules


def _region_profile(book: PolicyBook, state: schedule.Schedule) -> PolicyProfile:
    """The profile of the schedule's region when its first agreement starts (``PolicyError`` if the book has none)."""
    first = min(state.agreements.values(), key=lambda a: a.year_start)
    return book.profile_for(first.pooling_region_code, first.year_start)


def _profile(book: PolicyBook, state: schedule.Schedule) -> PolicyProfile:
    """As ``_region_profile``, for a request: no profile is a refusal naming the region."""
    try:
        return _region_profile(book, state)
    except PolicyError as exc:
        raise DomainRuleViolated("pooling_region_code", str(exc)) from exc


async def _basis(uow: UnitOfWork, state: schedule.Schedule, stated: Decimal | None) -> schedule.Basis:
    agreements = list(state.agreements.values())
    contracts = {}
    for contract_id in sorted({a.contract_id for a in agreements}):
        history, _ = await repo.streams.load(uow, repo.contract_stream(contract_id))
        contracts[contract_id] = contract.fold_contract(cast(list[ContractEvent], history))
    last_year = f"{min(a.year_start for a in agreements).year - 1}-"
    history, _ = await repo.streams.load(uow, repo.institution_stream(agreements[0].institution_id))
    fund: dict[str, Decimal] = {}
    for s in settlement_state.fold(cast(list[InstitutionSettlementEvent], history)).settlements.values():
        if s.month.startswith(last_year):
            fund[s.month] = fund.get(s.month, Decimal("0.00")) + s.amount
    return schedule.Basis(agreements=agreements, contracts=contracts, fund_payments_last_year=fund, stated_fund_payment=stated)


# ---- disbursements and liquidation ------------------------------------------------------------


async def disburse(uow: UnitOfWork, book: PolicyBook, cmd: p.Disburse) -> bool:
    """Record a disbursement of the fund (拨付预付款); False when it repeated an identical one."""
    loaded = await _require(uow, book, cmd.institution_id, cmd.year, cmd.last_year_average_monthly_fund_payment)
    prepayment = p.require_prepayment(loaded.profile, loaded.region)
    new = p.disburse(loaded.history, cmd, schedule.instalments(prepayment, loaded.basis))
    await repo.streams.append(uow, loaded.stream, "prepayment", loaded.version, new)
    return bool(new)


async def liquidate(uow: UnitOfWork, book: PolicyBook, cmd: p.Liquidate) -> bool:
    """Record the liquidation (清算) of the year's prepayments against the institution's invoices after 红冲."""
    loaded = await _require(uow, book, cmd.institution_id, cmd.year)
    i = t.invoices
    invoiced = (await uow.session.execute(
        select(func.coalesce(func.sum(i.c.amount_due), 0)).where(
            i.c.institution_id == cmd.institution_id, i.c.received_on.between(loaded.basis.year_start, loaded.basis.year_end)
        )
    )).scalar_one()
    new = p.liquidate(loaded.history, cmd, loaded.basis, Decimal(invoiced).quantize(schedule.FEN))
    await repo.streams.append(uow, loaded.stream, "prepayment", loaded.version, new)
    return bool(new)


async def _require(uow: UnitOfWork, book: PolicyBook, institution_id: str, year: int, stated: Decimal | None = None) -> Loaded:
    loaded = await load(uow, book, institution_id, year, stated)
    if loaded is None:
        raise DomainRuleViolated("year", f"no yearly agreement of institution {institution_id} starts in {year}: there is no schedule")
    return loaded


def today() -> date:
    """The business date (Asia/Shanghai): the default ``as of`` of a schedule."""
    return datetime.now(BUSINESS_TZ).date()
