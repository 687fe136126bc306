"""Regional policy profiles: the numbers and rule choices of one regional notice.

Each profile transcribes one source notice (``/work/shared/seeds``); every
section cites the paragraph it comes from. Where notices differ, the
difference is a field here, never a branch in service code. Profiles are
versioned: a changed notice becomes a new ``version`` of the profile, and the
region mapping (``regions.toml``) says from which date it applies.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Ratio = Annotated[Decimal, Field(ge=0, le=1, description="a share between 0 and 1")]
SourceRef = Annotated[
    str,
    Field(
        min_length=1,
        description="seed file and section, e.g. '000_0b8eb23f70a351bf.txt §五(三)'",
    ),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PaymentTermRule(StrEnum):
    """How the payment deadline (回款期限) is counted (rule R1)."""

    LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS = "later_of_acceptance_and_invoice_plus_days"
    """Guizhou: N days from the later of acceptance (验收合格) and invoice receipt (收到发票)."""
    ACCEPTANCE_PLUS_DAYS = "acceptance_plus_days"
    """Hubei: N days from acceptance / warehouse entry (入库)."""
    END_OF_MONTH_AFTER_ACCEPTANCE = "end_of_month_after_acceptance"
    """Liangjiang: by the end of the month after acceptance (交货验收合格后的次月底)."""


class PaymentTerm(_Frozen):
    """Payment deadline rule (回款期限, R1)."""

    rule: PaymentTermRule
    days: int | None = Field(default=None, ge=1, le=366, description="N of the '+ N days' rules")
    source: SourceRef

    @model_validator(mode="after")
    def _days_match_rule(self) -> PaymentTerm:
        if self.rule is PaymentTermRule.END_OF_MONTH_AFTER_ACCEPTANCE:
            if self.days is not None:
                raise ValueError(f"rule {self.rule.value!r} takes no 'days'")
        elif self.days is None:
            raise ValueError(f"rule {self.rule.value!r} needs 'days'")
        return self


class WarningSchedule(StrEnum):
    """When the overdue warning (预警) goes out (rule R2)."""

    FIRST_OVERDUE_DAY = "first_overdue_day"
    """At once: on the first day after the payment deadline."""
    MONTHLY_MONITORING = "monthly_monitoring"
    """With the monthly monitoring (按月预警), on a fixed day of the following month."""


class OverduePolicy(_Frozen):
    """Warning then withheld settlement (预警 → 暂缓拨付, R2)."""

    grace_working_days: int = Field(
        ge=0,
        le=60,
        description="working days after the warning before settlement is withheld",
    )
    warning_schedule: WarningSchedule
    monitoring_day_of_month: int | None = Field(
        default=None,
        ge=1,
        le=28,
        description="day of the month of the monthly monitoring",
    )
    source: SourceRef

    @model_validator(mode="after")
    def _monitoring_day_matches_schedule(self) -> OverduePolicy:
        monthly = self.warning_schedule is WarningSchedule.MONTHLY_MONITORING
        if monthly and self.monitoring_day_of_month is None:
            raise ValueError("warning_schedule 'monthly_monitoring' needs 'monitoring_day_of_month'")
        if not monthly and self.monitoring_day_of_month is not None:
            raise ValueError(
                f"'monitoring_day_of_month' only applies to 'monthly_monitoring', not to {self.warning_schedule.value!r}"
            )
        return self


class VolumeCompletion(_Frozen):
    """Agreed-volume completion thresholds (完成约定采购量, R3).

    Completion below ``warning_below`` of the cumulative target raises a
    warning (预警); below ``suspend_below`` the monthly settlement is
    suspended from the next month (自次月起暂停医保月结算).
    """

    period: Literal["quarter"]
    warning_below: Ratio
    suspend_below: Ratio
    source: SourceRef

    @model_validator(mode="after")
    def _suspension_below_warning(self) -> VolumeCompletion:
        if self.suspend_below > self.warning_below:
            raise ValueError(f"suspend_below ({self.suspend_below}) must not exceed warning_below ({self.warning_below})")
        return self


class Prepayment(_Frozen):
    """Insurance prepayment to institutions (医保预付, R5); Guizhou's form for now."""

    share_of_last_year_monthly_fund_payment: Ratio | None = Field(
        default=None,
        description="share of last year's average monthly fund payment (上年度月均拨付)",
    )
    minimum_share_of_procurement_amount: Ratio | None = Field(
        default=None,
        description="floor as a share of the procurement amount (采购金额)",
    )
    paid_by_month: int | None = Field(default=None, ge=1, le=12, description="month paid each year")
    source: SourceRef

    @model_validator(mode="after")
    def _some_amount(self) -> Prepayment:
        if self.share_of_last_year_monthly_fund_payment is None and self.minimum_share_of_procurement_amount is None:
            raise ValueError("prepayment needs at least one share")
        return self


class NonWinningCap(_Frozen):
    """Cap on non-winning products of a generic group (非中选, R4).

    The quantity of non-winning products, in the group's base unit, may be at
    most ``max_ratio_to_winning`` times the winning product's quantity.
    """

    max_ratio_to_winning: Decimal = Field(ge=0)
    source: SourceRef


class PolicyProfile(_Frozen):
    """One version of one region's policy (e.g. ``guizhou-2020`` version 1)."""

    profile_id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    source: SourceRef
    timezone: Literal["Asia/Shanghai"]
    payment_term: PaymentTerm
    overdue: OverduePolicy
    volume_completion: VolumeCompletion | None = None
    prepayment: Prepayment | None = None
    non_winning_cap: NonWinningCap | None = None

    @property
    def key(self) -> tuple[str, int]:
        """``(profile_id, version)``: what events and records should store."""
        return (self.profile_id, self.version)
