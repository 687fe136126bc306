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


class Basis(StrEnum):
    """Where a section's numbers come from."""

    NOTICE = "notice"
    """The notice states them (the default)."""
    PLATFORM_DEFAULT = "platform_default"
    """The notice gives no number; the platform's default applies (``basis_reason`` says why)."""


def _check_basis(basis: Basis, reason: str | None) -> None:
    if basis is Basis.PLATFORM_DEFAULT and not (reason and reason.strip()):
        raise ValueError("basis 'platform_default' needs 'basis_reason'")
    if basis is Basis.NOTICE and reason is not None:
        raise ValueError("'basis_reason' only applies to basis 'platform_default'")


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
    basis: Basis = Basis.NOTICE
    basis_reason: str | None = Field(default=None, description="why a platform default stands in for the notice")
    credit_note_restarts_clock: bool = Field(
        default=False,
        description="a credit note (红冲) counts as the corrected invoice's receipt: the deadline is counted again from its receipt date",
    )

    @model_validator(mode="after")
    def _days_match_rule(self) -> PaymentTerm:
        _check_basis(self.basis, self.basis_reason)
        if self.rule is PaymentTermRule.END_OF_MONTH_AFTER_ACCEPTANCE:
            if self.days is not None:
                raise ValueError(f"rule {self.rule.value!r} takes no 'days'")
        elif self.days is None:
            raise ValueError(f"rule {self.rule.value!r} needs 'days'")
        if self.credit_note_restarts_clock and self.rule is not PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS:
            raise ValueError(
                f"'credit_note_restarts_clock' needs a rule counting from invoice receipt "
                f"({PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS.value!r}), not {self.rule.value!r}"
            )
        return self


class WarningSchedule(StrEnum):
    """When the overdue warning (预警) goes out (rule R2)."""

    FIRST_OVERDUE_DAY = "first_overdue_day"
    """At once: on the first day after the payment deadline."""
    MONTHLY_MONITORING = "monthly_monitoring"
    """With the monthly monitoring (按月预警), on a fixed day of the following month."""


class OverduePolicy(_Frozen):
    """Warning then withheld settlement (预警 → 暂缓拨付, R2).

    ``withhold_enabled = false`` (a notice without a withhold): overdue
    invoices are still warned about, but no withhold follows; such a file
    must not give ``grace_working_days`` (it reads as 0 and means nothing).
    """

    withhold_enabled: bool = Field(default=True, description="whether an unpaid overdue invoice leads to a withhold")
    grace_working_days: int = Field(
        default=0,
        ge=0,
        le=60,
        description="working days after the warning before settlement is withheld (required when withhold_enabled)",
    )
    warning_schedule: WarningSchedule
    monitoring_day_of_month: int | None = Field(
        default=None,
        ge=1,
        le=28,
        description="day of the month of the monthly monitoring",
    )
    source: SourceRef
    basis: Basis = Basis.NOTICE
    basis_reason: str | None = None

    @model_validator(mode="after")
    def _monitoring_day_matches_schedule(self) -> OverduePolicy:
        _check_basis(self.basis, self.basis_reason)
        given = "grace_working_days" in self.model_fields_set
        if self.withhold_enabled and not given:
            raise ValueError("withhold_enabled needs 'grace_working_days'")
        if not self.withhold_enabled and given:
            raise ValueError("'grace_working_days' only applies when withhold_enabled is true")
        monthly = self.warning_schedule is WarningSchedule.MONTHLY_MONITORING
        if monthly and self.monitoring_day_of_month is None:
            raise ValueError("warning_schedule 'monthly_monitoring' needs 'monitoring_day_of_month'")
        if not monthly and self.monitoring_day_of_month is not None:
            raise ValueError(
                f"'monitoring_day_of_month' only applies to 'monthly_monitoring', not to {self.warning_schedule.value!r}"
            )
        return self


VolumeCombination = Literal["amount_weighted_capped", "amount_weighted", "minimum_product"]
"""``amount_weighted_capped`` (default): products weighted by amount, each capped at 100%."""
VolumeTargets = Literal["even_periods_from_cycle_start"]
"""``even_periods_from_cycle_start`` (default): agreed volume split evenly over the periods of the agreement year, cumulated."""


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


class PrepaymentTrigger(StrEnum):
    """What releases one prepayment phase; several triggers mean whichever comes first (或)."""

    CONTRACT_SIGNED = "contract_signed"
    """After the purchase agreement is signed (合同签订后)."""
    HALF_CYCLE_ELAPSED = "half_cycle_elapsed"
    """After half the procurement cycle (采购周期执行半年)."""
    AGREED_VOLUME_SHARE_REACHED = "agreed_volume_share_reached"
    """Once ``trigger_volume_share`` of the agreed volume is bought."""
    ANNUAL = "annual"
    """Once a year, in ``Prepayment.paid_by_month``."""


class PrepaymentPhase(_Frozen):
    """One phase (期) of a phased prepayment (Hubei 003 §四(三))."""

    phase: int = Field(ge=1, description="1, 2, ... in order")
    triggers: tuple[PrepaymentTrigger, ...] = Field(min_length=1)
    trigger_volume_share: Ratio | None = Field(default=None, description="for agreed_volume_share_reached")
    min_share_of_procurement_budget: Ratio | None = Field(
        default=None, description="floor of this phase, share of price × agreed volume; none: the rest up to the total"
    )

    @model_validator(mode="after")
    def _volume_share_matches_trigger(self) -> PrepaymentPhase:
        if len(set(self.triggers)) != len(self.triggers):
            raise ValueError("a trigger is listed twice")
        wants = PrepaymentTrigger.AGREED_VOLUME_SHARE_REACHED in self.triggers
        if wants and self.trigger_volume_share is None:
            raise ValueError("trigger 'agreed_volume_share_reached' needs 'trigger_volume_share'")
        if not wants and self.trigger_volume_share is not None:
            raise ValueError("'trigger_volume_share' only applies to trigger 'agreed_volume_share_reached'")
        return self


class Prepayment(_Frozen):
    """Insurance prepayment to institutions (医保预付, R5).

    Either a yearly share (Guizhou), a floor share of the procurement amount
    (Chongqing), or ``phases`` with a ``minimum_total_share_of_procurement_budget`` (Hubei).
    """

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
    phases: tuple[PrepaymentPhase, ...] = ()
    minimum_total_share_of_procurement_budget: Ratio | None = Field(
        default=None, description="floor of all phases together, share of price × agreed volume (采购预算)"
    )
    earmarked: bool = Field(default=False, description="专款专用")
    liquidated_at_cycle_end: bool = Field(default=False, description="清算 and return of prepayment at the end")

    @model_validator(mode="after")
    def _some_amount(self) -> Prepayment:
        if (
            self.share_of_last_year_monthly_fund_payment is None
            and self.minimum_share_of_procurement_amount is None
            and not self.phases
        ):
            raise ValueError("prepayment needs at least one share or phases")
        if self.phases:
            numbers = [phase.phase for phase in self.phases]
            if numbers != list(range(1, len(numbers) + 1)):
                raise ValueError(f"phases must be numbered 1, 2, ... in order (got {numbers})")
            if self.minimum_total_share_of_procurement_budget is None:
                raise ValueError("phases need 'minimum_total_share_of_procurement_budget'")
            floors = sum((p.min_share_of_procurement_budget or Decimal(0) for p in self.phases), Decimal(0))
            if floors > self.minimum_total_share_of_procurement_budget:
                raise ValueError(
                    f"phase floors add up to {floors}, more than minimum_total_share_of_procurement_budget "
                    f"({self.minimum_total_share_of_procurement_budget})"
                )
        elif self.minimum_total_share_of_procurement_budget is not None:
            raise ValueError("'minimum_total_share_of_procurement_budget' only applies with 'phases'")
        return self


class NonWinningCap(_Frozen):
    """Cap on non-winning products of a generic group (非中选, R4).

    The quantity of non-winning products, in the group's base unit, may be at
    most ``max_ratio_to_winning`` times the winning product's quantity.
    """

    max_ratio_to_winning: Decimal = Field(ge=0)
    source: SourceRef


class DirectSettlement(_Frozen):
    """The fund paying companies directly (直接结算), deducted from the institution (R5)."""

    allowed: bool
    stage: Literal["in_force", "promoted", "exploratory"] = Field(
        description="in_force: the rule applies; promoted: the notice pushes it (加快推进/可); exploratory: pilot later (探索)"
    )
    deduct_from_institution_settlement: bool = True
    source: SourceRef


class PaymentStandard(_Frozen):
    """Insurance payment standard (医保支付标准, R6)."""

    winning_price_is_standard: bool = True
    patient_pays_excess: bool = Field(description="超出支付标准的部分由患者自付")
    dearer_non_winning_self_pay_increase: Ratio | None = Field(
        default=None, description="points added to the first self-pay ratio for non-winning products dearer than the winning price"
    )
    adjustment_years: int | None = Field(default=None, ge=1, le=10, description="years to bring other products to the standard")
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


class Allocation(_Frozen):
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


class CycleByWinners(_Frozen):
    """Cycle length for products with at most ``max_winners`` winning companies."""

    max_winners: int = Field(ge=1)
    years: int = Field(ge=1, le=5)


class CycleRules(_Frozen):
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


class FilingPurchase(_Frozen):
    """Filing purchases (备案采购) and their amount warning line (预警线)."""

    warning_line_enabled: bool
    amount_warning_line: Decimal | None = Field(
        default=None, ge=0, description="yuan per institution; none: set per institution by the bureau"
    )
    source: SourceRef


class Kpi(StrEnum):
    """Monitoring indicators (监测考核指标, R7)."""

    VOLUME_COMPLETION = "volume_completion"
    ON_TIME_PAYMENT_RATE = "on_time_payment_rate"
    NON_WINNING_SHARE = "non_winning_share"
    OFFLINE_PURCHASE_SHARE = "offline_purchase_share"
    PLATFORM_PURCHASE_RATE = "platform_purchase_rate"
    FILING_PURCHASE_AMOUNT = "filing_purchase_amount"
    DRUG_COST_GROWTH = "drug_cost_growth"
    SIMILAR_GENERIC_COST = "similar_generic_cost"
    POLICY_VIOLATIONS = "policy_violations"
    PRICE_VIOLATIONS = "price_violations"


class Kpis(_Frozen):
    """Which KPIs are monitored, how often, and whether results are ranked."""

    indicators: tuple[Kpi, ...] = Field(min_length=1)
    frequency: Literal["month", "quarter", "year"] = "month"
    year_end_budget_reduction: bool = Field(default=False, description="missed volume reduces next year's fund budget")
    source: SourceRef

    @model_validator(mode="after")
    def _unique(self) -> Kpis:
        if len(set(self.indicators)) != len(self.indicators):
            raise ValueError("an indicator is listed twice")
        return self


class ManufacturerReport(_Frozen):
    """Manufacturers' monthly report (生产、供应、库存、回款) due day."""

    due_day_of_month: int = Field(ge=1, le=28, description="report on the previous month by this day")
    covers: tuple[Literal["production", "supply", "stock", "payments_received"], ...] = Field(min_length=1)
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
    direct_settlement: DirectSettlement | None = None
    payment_standard: PaymentStandard | None = None
    allocation: Allocation | None = None
    cycle: CycleRules | None = None
    filing_purchase: FilingPurchase | None = None
    kpis: Kpis | None = None
    manufacturer_report: ManufacturerReport | None = None

    @property
    def key(self) -> tuple[str, int]:
        """``(profile_id, version)``: what events and records should store."""
        return (self.profile_id, self.version)
