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

The pooling region's profile (``[allocation]``, in force on 1 January of the
agreement year) decides the method and the county grouping: the operator may
omit them (taken from the profile) or state them (they must match). Hubei 003
and Liangjiang 002 take the reported volume (``reported_demand``): the ratio is
the share of it the batch fixes, so it travels as ``reported_demand_ratio``.

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
from jicai_policy import PolicyProfile
from jicai_policy.sections.procurement import AllocationMethod as ProfileMethod


class AllocationMethod(StrEnum):
    REPORTED_DEMAND_RATIO = "reported_demand_ratio"
    SHARE_OF_PLATFORM_PURCHASES = "share_of_platform_purchases"
    PERCENT_OF_LAST_YEAR_USE = "percent_of_last_year_use"


PROFILE_METHODS: Mapping[ProfileMethod, AllocationMethod] = {
    ProfileMethod.REPORTED_DEMAND_TIMES_RATIO: AllocationMethod.REPORTED_DEMAND_RATIO,
    ProfileMethod.REPORTED_DEMAND: AllocationMethod.REPORTED_DEMAND_RATIO,
    ProfileMethod.SHARE_OF_PLATFORM_PURCHASES: AllocationMethod.SHARE_OF_PLATFORM_PURCHASES,
    ProfileMethod.SHARE_OF_LAST_YEAR_USE: AllocationMethod.PERCENT_OF_LAST_YEAR_USE,
}
"""The profile's method → the method name this API uses for it."""


@dataclass(frozen=True)
class ProfileChoice:
    """What the region's profile decided for an allocation."""

    method: AllocationMethod
    profile_method: ProfileMethod
    group_by_county: bool


def follow_profile(
    profile: PolicyProfile, method: AllocationMethod | None, ratio: Decimal | None, group_by_county: bool | None
) -> ProfileChoice:
    """The method and county grouping of ``profile``'s ``[allocation]``; a stated one that differs is refused, naming the field."""
    rules = profile.allocation
    named = f"profile {profile.profile_id} v{profile.version}"
    if rules is None:
        raise RuleViolated("pooling_region_code", f"{named} has no [allocation] section: it does not say how volume is decomposed")
    chosen = PROFILE_METHODS[rules.method]
    if method is not None and method is not chosen:
        raise RuleViolated("method", f"{named} decomposes by {rules.method.value} ({rules.source}): use {chosen.value} or omit method")
    if rules.min_share_of_last_year_use is not None and rules.max_share_of_last_year_use is not None and ratio is not None:
        low, high = rules.min_share_of_last_year_use, rules.max_share_of_last_year_use
        if not low <= ratio <= high:
            raise RuleViolated("ratio", f"{named} takes {low}..{high} of last year's use ({rules.source}), not {ratio}")
    by_county = rules.primary_care_grouped_by == "county"
    if group_by_county is not None and group_by_county != by_county:
        grouping = "groups primary care by county" if by_county else "does not group by county"
        raise RuleViolated("group_by_county", f"{named} {grouping} ({rules.source})")
    return ProfileChoice(chosen, rules.method, by_county)


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
    """A draft request; ``method`` and ``group_by_county`` left None are taken from the region's profile."""

    allocation_id: str
    product_id: str
    agreement_year: int
    pooling_region_code: str
    bases: tuple[Basis, ...]
    method: AllocationMethod | None = None
    total: int | None = None
    ratio: Decimal | None = None
    group_by_county: bool | None = None


def profile_day(agreement_year: int) -> date:
    """The day whose profile decides an allocation: 1 January of the agreement year."""
    return date(agreement_year, 1, 1)


def draft(history: Sequence[ContractsEvent], cmd: DraftAllocation, profile: PolicyProfile) -> list[ContractsEvent]:
    """Decide a draft by ``profile`` (the region's on 1 January); the same draft again records nothing, another under the same id is
    a conflict (like every write: idempotent by its business id); an approved allocation is final."""
    choice = follow_profile(profile, cmd.method, cmd.ratio, cmd.group_by_county)
    allocated = decompose(choice.method, cmd.bases, total=cmd.total, ratio=cmd.ratio, group_by_county=choice.group_by_county)
    event = VolumeAllocationDrafted(
        allocation_id=cmd.allocation_id, product_id=cmd.product_id, agreement_year=cmd.agreement_year, method=choice.method.value,
        total=cmd.total, ratio=cmd.ratio, group_by_county=choice.group_by_county, pooling_region_code=cmd.pooling_region_code,
        profile_id=profile.profile_id, profile_version=profile.version, profile_method=choice.profile_method.value,
        lines=tuple(AllocatedVolume(institution_id=b.institution_id, county_code=b.county_code, basis_quantity=b.quantity,
                                    allocated_quantity=allocated[b.institution_id]) for b in cmd.bases),
    )
    if any(isinstance(e, VolumeAllocationApproved) for e in history):
        raise Conflict(f"allocation {cmd.allocation_id} is approved; draft a new one to change it")
    drafts = [e for e in history if isinstance(e, VolumeAllocationDrafted)]
    if not drafts:
        return [event]
    if drafts[-1] == event:
        return []
    raise Conflict(f"allocation {cmd.allocation_id} is drafted already with other content; draft the change under a new allocation id")


def approve(history: Sequence[ContractsEvent], allocation_id: str, approved_on: date) -> list[ContractsEvent]:
    """Approve the latest draft after review; approving twice on the same day is a harmless retry."""
    drafts = [e for e in history if isinstance(e, VolumeAllocationDrafted)]
    if not drafts:
        raise RuleViolated("allocation_id", f"no draft allocation {allocation_id}")
    approved = [e for e in history if isinstance(e, VolumeAllocationApproved)]
    if approved:
        if approved[0].approved_on == approved_on:
            return []
        raise Conflict(f"allocation {allocation_id} was approved on {approved[0].approved_on}")
    return [VolumeAllocationApproved(allocation_id=allocation_id, approved_on=approved_on,
                                     profile_id=drafts[-1].profile_id, profile_version=drafts[-1].profile_version)]
