"""Volume allocation (任务量分解): a province's agreed volume decomposed to institutions.

Methods, from the notices (the profile names which one a province uses):
- ``reported_demand_ratio`` — Shandong 001 §一: each institution's reported
  demand × the province's allocation ratio.
- ``share_of_platform_purchases`` — Guizhou 000 §五(一): a given total split by
  each institution's share of last year's platform-recorded purchases.
- ``percent_of_last_year_use`` — Chongqing 004 §二(二): a percentage (60–70%)
  of each institution's use last year.
Hubei 003 §四(一) groups primary-care institutions by county: with
``group_by_county`` the total goes to counties first, then within each county.

Rounding rule: quantities are whole trading units. Every split uses the
largest-remainder (Hamilton) method: each share gets the floor of its exact
quota, and the units left over go one each to the largest fractional
remainders, ties to the larger weight, then to the smaller id. So the parts
always add up exactly to the total, no part is off its exact quota by a unit
or more, and the same input always gives the same split.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from jicai_contracts.domain.events import AllocatedVolume, ContractsEvent, VolumeAllocationApproved, VolumeAllocationDrafted
from jicai_events.rules import Conflict, RuleViolated


class AllocationMethod(StrEnum):
    REPORTED_DEMAND_RATIO = "reported_demand_ratio"
    SHARE_OF_PLATFORM_PURCHASES = "share_of_platform_purchases"
    PERCENT_OF_LAST_YEAR_USE = "percent_of_last_year_use"


@dataclass(frozen=True)
class Basis:
    """One institution's basis quantity: reported demand, last year's purchases or use."""

    institution_id: str
    county_code: str
    quantity: int


def largest_remainder(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Split ``total`` units in proportion to ``weights``; the parts add up exactly to ``total``."""
    weight_sum = sum(weights.values())
    if total < 0:
        raise ValueError("total must not be negative")
    if weight_sum <= 0:
        raise ValueError("at least one weight must be positive")
    quotas = {key: Decimal(total) * w / weight_sum for key, w in weights.items()}
    parts = {key: int(q) for key, q in quotas.items()}  # floor: quotas are never negative
    left = total - sum(parts.values())
    order = sorted(weights, key=lambda k: (-(quotas[k] - parts[k]), -weights[k], k))
    for key in order[:left]:
        parts[key] += 1
    return parts


def decompose(
    method: AllocationMethod,
    bases: Sequence[Basis],
    *,
    total: int | None = None,
    ratio: Decimal | None = None,
    group_by_county: bool = False,
) -> dict[str, int]:
    """Each institution's agreed volume under ``method``; raises RuleViolated naming the bad field."""
    if not bases:
        raise RuleViolated("bases", "at least one institution is needed")
    ids = [b.institution_id for b in bases]
    if len(set(ids)) != len(ids):
        raise RuleViolated("bases", "an institution appears more than once")
    if sum(b.quantity for b in bases) <= 0:
        raise RuleViolated("bases", "every basis quantity is zero: there is nothing to allocate by")
    if method is AllocationMethod.SHARE_OF_PLATFORM_PURCHASES:
        if total is None or ratio is not None:
            raise RuleViolated("total", f"{method.value} needs a total and no ratio")
        grand_total = total
    else:
        if ratio is None or total is not None:
            raise RuleViolated("ratio", f"{method.value} needs a ratio and no total")
        if not Decimal(0) < ratio <= Decimal(1):
            raise RuleViolated("ratio", "must be above 0 and at most 1")
        grand_total = int((sum(b.quantity for b in bases) * ratio).to_integral_value(ROUND_HALF_UP))
    if not group_by_county:
        return largest_remainder(grand_total, {b.institution_id: b.quantity for b in bases})
    counties: dict[str, list[Basis]] = {}
    for b in bases:
        counties.setdefault(b.county_code, []).append(b)
    county_totals = largest_remainder(grand_total, {c: sum(b.quantity for b in members) for c, members in counties.items()})
    allocation: dict[str, int] = {}
    for county, members in counties.items():
        weights = {b.institution_id: b.quantity for b in members}
        if sum(weights.values()) == 0:
            allocation.update(dict.fromkeys(weights, 0))
        else:
            allocation.update(largest_remainder(county_totals[county], weights))
    return allocation


@dataclass(frozen=True)
class DraftAllocation:
    allocation_id: str
    product_id: str
    agreement_year: int
    method: AllocationMethod
    bases: tuple[Basis, ...]
    total: int | None = None
    ratio: Decimal | None = None
    group_by_county: bool = False


def draft(history: Sequence[ContractsEvent], cmd: DraftAllocation) -> list[ContractsEvent]:
    """Decide a draft; the same draft again records nothing; an approved allocation is final."""
    allocated = decompose(cmd.method, cmd.bases, total=cmd.total, ratio=cmd.ratio, group_by_county=cmd.group_by_county)
    event = VolumeAllocationDrafted(
        allocation_id=cmd.allocation_id, product_id=cmd.product_id, agreement_year=cmd.agreement_year, method=cmd.method.value,
        total=cmd.total, ratio=cmd.ratio, group_by_county=cmd.group_by_county,
        lines=tuple(AllocatedVolume(institution_id=b.institution_id, county_code=b.county_code, basis_quantity=b.quantity,
                                    allocated_quantity=allocated[b.institution_id]) for b in cmd.bases),
    )
    if any(isinstance(e, VolumeAllocationApproved) for e in history):
        raise Conflict(f"allocation {cmd.allocation_id} is approved; draft a new one to change it")
    drafts = [e for e in history if isinstance(e, VolumeAllocationDrafted)]
    if drafts and drafts[-1] == event:
        return []
    return [event]


def approve(history: Sequence[ContractsEvent], allocation_id: str, approved_on: date) -> list[ContractsEvent]:
    """Approve the latest draft after review; approving twice on the same day is a harmless retry."""
    if not any(isinstance(e, VolumeAllocationDrafted) for e in history):
        raise RuleViolated("allocation_id", f"no draft allocation {allocation_id}")
    approved = [e for e in history if isinstance(e, VolumeAllocationApproved)]
    if approved:
        if approved[0].approved_on == approved_on:
            return []
        raise Conflict(f"allocation {allocation_id} was approved on {approved[0].approved_on}")
    return [VolumeAllocationApproved(allocation_id=allocation_id, approved_on=approved_on)]
