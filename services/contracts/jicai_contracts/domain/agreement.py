"""Yearly agreements (年度采购协议): within a contract's cycle the agreement is signed every year (采购协议每年一签).

Hubei 003 §二(三), Guizhou 000 §四(三). Year N of a contract is agreement
``"{contract_id}-y{N}"``; it runs from the N-1-th anniversary of the cycle
start to the day before the N-th, cut at the cycle end. Signing a contract
signs year 1 with the contract's agreed volume; later years are rolled over
from the previous one. Volume still owed on an agreement is its agreed volume
less what was accepted and not returned, never below zero.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from jicai_contracts.domain.batch import anniversary, years_end
from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import (
    ContractsEvent,
    ContractSigned,
    ReallocatedVolume,
    VolumeReallocated,
    YearlyAgreementAmended,
    YearlyAgreementRolledOver,
    YearlyAgreementSigned,
)

Opening = YearlyAgreementSigned | YearlyAgreementRolledOver


def agreement_id(contract_id: str, year: int) -> str:
    return f"{contract_id}-y{year}"


def year_bounds(cycle_start: date, cycle_end: date, year: int) -> tuple[date, date]:
    """[start, end] of agreement year ``year`` of a cycle."""
    return anniversary(cycle_start, year - 1), min(years_end(cycle_start, year), cycle_end)


def owed(agreed: int, accepted: int, returned: int) -> int:
    """Volume still owed: agreed less net accepted; buying beyond the agreed volume owes nothing more, never less than 0."""
    return max(agreed - (accepted - returned), 0)


def first_year(signed: ContractSigned) -> YearlyAgreementSigned:
    """Year 1 of a newly signed contract, with the contract's agreed volume."""
    start, end = year_bounds(signed.cycle_start, signed.cycle_end, 1)
    return YearlyAgreementSigned(
        agreement_id=agreement_id(signed.contract_id, 1), contract_id=signed.contract_id, institution_id=signed.institution_id,
        pooling_region_code=signed.pooling_region_code, product_id=signed.product_id, manufacturer_id=signed.manufacturer_id,
        distributor_id=signed.distributor_id, agreement_year=1, year_start=start, year_end=end, agreed_quantity=signed.agreed_quantity,
        unit_price=signed.unit_price, signed_on=signed.signed_on,
    )


@dataclass(frozen=True)
class Agreement:
    """A yearly agreement as its stream tells it: how it opened and its agreed volume now."""

    opening: Opening
    agreed_quantity: int
    last: ContractsEvent


def state(history: Sequence[ContractsEvent], key: str) -> Agreement:
    if not history or not isinstance(history[0], YearlyAgreementSigned | YearlyAgreementRolledOver):
        raise DomainRuleViolated("agreement_id", f"no yearly agreement {key}")
    agreed = history[0].agreed_quantity
    for e in history:
        if isinstance(e, YearlyAgreementAmended):
            agreed = e.agreed_quantity
    return Agreement(history[0], agreed, history[-1])


def _amendment(agreement: Agreement, quantity: int, amended_on: date, reason: str, reallocation_id: str | None) -> YearlyAgreementAmended:
    o = agreement.opening
    return YearlyAgreementAmended(
        agreement_id=o.agreement_id, contract_id=o.contract_id, institution_id=o.institution_id, pooling_region_code=o.pooling_region_code,
        product_id=o.product_id, agreed_quantity=quantity, previous_agreed_quantity=agreement.agreed_quantity, amended_on=amended_on,
        reason=reason, reallocation_id=reallocation_id,
    )


def _not_below_accepted(field: str, agreement_key: str, quantity: int, net_accepted: int) -> None:
    if quantity < net_accepted:
        raise DomainRuleViolated(field, f"{quantity} is below the {net_accepted} already accepted on {agreement_key}")


def amend(
    history: Sequence[ContractsEvent], key: str, quantity: int, amended_on: date, reason: str, net_accepted: int
) -> list[ContractsEvent]:
    """Decide: change the agreed volume (调整约定采购量); repeating the latest amendment records nothing."""
    agreement = state(history, key)
    last = agreement.last
    if isinstance(last, YearlyAgreementAmended) and last.reallocation_id is None and (
        last.agreed_quantity, last.amended_on, last.reason) == (quantity, amended_on, reason):
        return []
    if quantity == agreement.agreed_quantity:
        raise DomainRuleViolated("agreed_quantity", f"is already {quantity}")
    _not_below_accepted("agreed_quantity", key, quantity, net_accepted)
    return [_amendment(agreement, quantity, amended_on, reason, None)]


@dataclass(frozen=True)
class Reallocate:
    reallocation_id: str
    amended_on: date
    reason: str
    lines: tuple[ReallocatedVolume, ...]


def reallocate(
    previous: Sequence[ContractsEvent], cmd: Reallocate, agreements: Mapping[str, Agreement], net_accepted: Mapping[str, int]
) -> tuple[list[ContractsEvent], dict[str, YearlyAgreementAmended]]:
    """Decide: move volume between institutions' agreements of one product and year, totals unchanged, all or nothing.

    Returns the reallocation's own record and the amendment of each agreement whose volume changes.
    """
    request = VolumeReallocated(reallocation_id=cmd.reallocation_id, amended_on=cmd.amended_on, reason=cmd.reason, lines=cmd.lines)
    if previous:
        if previous[0] == request:
            return [], {}
        raise AlreadyExists(f"reallocation {cmd.reallocation_id} was recorded with different lines")
    ids = [line.agreement_id for line in cmd.lines]
    if len(ids) < 2 or len(set(ids)) != len(ids):
        raise DomainRuleViolated("lines", "name at least two different yearly agreements")
    for i, line in enumerate(cmd.lines):
        if line.agreement_id not in agreements:
            raise DomainRuleViolated(f"lines[{i}].agreement_id", f"no yearly agreement {line.agreement_id}")
    first = agreements[ids[0]].opening
    for i, line in enumerate(cmd.lines):
        o = agreements[line.agreement_id].opening
        if (o.product_id, o.agreement_year) != (first.product_id, first.agreement_year):
            raise DomainRuleViolated(f"lines[{i}].agreement_id", f"must be an agreement of product {first.product_id}, "
                                                                 f"year {first.agreement_year}, like {first.agreement_id}")
    before = sum(agreements[i].agreed_quantity for i in ids)
    after = sum(line.agreed_quantity for line in cmd.lines)
    if before != after:
        raise DomainRuleViolated("lines", f"the agreed volumes add up to {after}, not the {before} they hold now")
    for i, line in enumerate(cmd.lines):
        _not_below_accepted(f"lines[{i}].agreed_quantity", line.agreement_id, line.agreed_quantity, net_accepted[line.agreement_id])
    amendments = {
        line.agreement_id: _amendment(agreements[line.agreement_id], line.agreed_quantity, cmd.amended_on, cmd.reason, cmd.reallocation_id)
        for line in cmd.lines if line.agreed_quantity != agreements[line.agreement_id].agreed_quantity
    }
    if not amendments:
        raise DomainRuleViolated("lines", "no agreed volume changes")
    return [request], amendments


@dataclass(frozen=True)
class RollOver:
    agreement_id: str
    rolled_over_on: date
    agreed_quantity: int | None = None
    """The next year's agreed volume; none: the previous year's as it stands."""


def roll_over(
    previous: Sequence[ContractsEvent], following: Sequence[ContractsEvent], cmd: RollOver,
    cycle: tuple[date, date], owed_now: int,
) -> list[ContractsEvent]:
    """Decide: sign the next year's agreement (续签) within the contract's (possibly extended) cycle.

    ``following`` is the next agreement's stream; the same roll-over again records nothing.
    """
    agreement = state(previous, cmd.agreement_id)
    o = agreement.opening
    year = o.agreement_year + 1
    start, end = year_bounds(cycle[0], cycle[1], year)
    if start > cycle[1]:
        raise DomainRuleViolated("agreement_id", f"{cmd.agreement_id} is the last year: the cycle ends on {cycle[1]}")
    event = YearlyAgreementRolledOver(
        agreement_id=agreement_id(o.contract_id, year), contract_id=o.contract_id, institution_id=o.institution_id,
        pooling_region_code=o.pooling_region_code, product_id=o.product_id, manufacturer_id=o.manufacturer_id,
        distributor_id=o.distributor_id, previous_agreement_id=o.agreement_id, agreement_year=year, year_start=start, year_end=end,
        agreed_quantity=agreement.agreed_quantity if cmd.agreed_quantity is None else cmd.agreed_quantity, unit_price=o.unit_price,
        owed_quantity_at_rollover=owed_now, rolled_over_on=cmd.rolled_over_on,
    )
    if following:
        done = following[0]
        if isinstance(done, YearlyAgreementRolledOver) and (done.agreed_quantity, done.rolled_over_on) == (
                event.agreed_quantity, event.rolled_over_on):
            return []  # a retry: what was owed then is what was recorded
        raise AlreadyExists(f"{event.agreement_id} was rolled over already with different terms")
    if event.agreed_quantity <= 0:
        raise DomainRuleViolated("agreed_quantity", "must be positive")
    return [event]
