"""The agreed volume and the procurement around it: completion (完成约定采购量, R3), the non-winning cap (非中选, R4),
its decomposition to institutions, the cycle (采购周期) and filing purchases (备案采购)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from jicai_policy.sections.common import Ratio, Section, SourceRef

VolumeCombination = Literal["amount_weighted_capped", "amount_weighted", "minimum_product"]
"""``amount_weighted_capped`` (default): products weighted by amount, each capped at 100%."""
VolumeTargets = Literal["even_periods_from_cycle_start"]
"""``even_periods_from_cycle_start`` (default): agreed volume split evenly over the periods of the agreement year, cumulated."""


class VolumeCompletion(Section):
    """Agreed-volume completion thresholds (完成约定采购量, R3).

    Completion below ``warning_below`` of the cumulative target raises a
    warning (预警); below ``suspend_below`` the monthly settlement is
    suspended from the next month (自次月起暂停医保月结算).
    """

    period: Literal["quarter"]
    warning_below: Ratio
    suspend_below: Ratio
    source: SourceRef
    combination: VolumeCombination = Field(
        default="amount_weighted_capped",
        description="how product ratios combine into one institution ratio",
    )
    targets: VolumeTargets = Field(
        default="even_periods_from_cycle_start",
        description="how cumulative period targets come from the agreed volume",
    )

    @model_validator(mode="after")
    def _suspension_below_warning(self) -> VolumeCompletion:
        if self.suspend_below > self.warning_below:
            raise ValueError(f"suspend_below ({self.suspend_below}) must not exceed warning_below ({self.warning_below})")
        return self


class NonWinningCap(Section):
    """Cap on non-winning products of a generic group (非中选, R4).

    The quantity of non-winning products, in the group's base unit, may be at
    most ``max_ratio_to_winning`` times the winning product's quantity.
    """

    max_ratio_to_winning: Decimal = Field(ge=0)
    source: SourceRef


class AllocationMethod(StrEnum):
    """How the agreed volume is decomposed to institutions."""

    REPORTED_DEMAND_TIMES_RATIO = "reported_demand_times_ratio"
    """Shandong: institution's reported demand × the province's allocation ratio."""
    SHARE_OF_PLATFORM_PURCHASES = "share_of_platform_purchases"
    """Guizhou: by each product's share of platform-recorded purchases."""
    SHARE_OF_LAST_YEAR_USE = "share_of_last_year_use"
    """Chongqing: a share of last year's use."""
    REPORTED_DEMAND = "reported_demand"
    """Hubei, Liangjiang: from the reported volume, confirmed per institution (or county)."""


class Allocation(Section):
    """Decomposition of the agreed volume (约定采购量分解)."""

    method: AllocationMethod
    min_share_of_last_year_use: Ratio | None = None
    max_share_of_last_year_use: Ratio | None = None
    primary_care_grouped_by: Literal["county"] | None = Field(default=None, description="基层医疗机构 by 县（市、区）")
    source: SourceRef

    @model_validator(mode="after")
    def _shares_match_method(self) -> Allocation:
        shares = (self.min_share_of_last_year_use, self.max_share_of_last_year_use)
        if self.method is AllocationMethod.SHARE_OF_LAST_YEAR_USE:
            if shares[0] is None or shares[1] is None:
                raise ValueError("method 'share_of_last_year_use' needs min_ and max_share_of_last_year_use")
            if shares[0] > shares[1]:
                raise ValueError(f"min_share_of_last_year_use ({shares[0]}) exceeds max_share_of_last_year_use ({shares[1]})")
        elif shares != (None, None):
            raise ValueError("shares of last year's use only apply to method 'share_of_last_year_use'")
        return self


class CycleByWinners(Section):
    """Cycle length for products with at most ``max_winners`` winning companies."""

    max_winners: int = Field(ge=1)
    years: int = Field(ge=1, le=5)


class CycleRules(Section):
    """Procurement cycle (采购周期)."""

    min_years: int = Field(ge=1, le=5)
    max_years: int = Field(ge=1, le=5)
    by_winner_count: tuple[CycleByWinners, ...] = ()
    extendable_years: int = Field(default=0, ge=0, le=3)
    agreement_signed_yearly: bool = True
    source: SourceRef

    @model_validator(mode="after")
    def _consistent(self) -> CycleRules:
        if self.min_years > self.max_years:
            raise ValueError(f"min_years ({self.min_years}) exceeds max_years ({self.max_years})")
        bounds = [rule.max_winners for rule in self.by_winner_count]
        if bounds != sorted(set(bounds)):
            raise ValueError("by_winner_count must have strictly increasing max_winners")
        for rule in self.by_winner_count:
            if not self.min_years <= rule.years <= self.max_years:
                raise ValueError(f"{rule.years} years for <= {rule.max_winners} winners is outside min_years..max_years")
        return self


class FilingPurchase(Section):
    """Filing purchases (备案采购) and their amount warning line (预警线)."""

    warning_line_enabled: bool
    amount_warning_line: Decimal | None = Field(
        default=None, ge=0, description="yuan per institution; none: set per institution by the bureau"
    )
    source: SourceRef
