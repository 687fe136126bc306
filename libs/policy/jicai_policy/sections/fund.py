"""The insurance fund's side (医保基金): prepayment (医保预付, R5), direct settlement (直接结算, R5), the payment standard (医保支付标准, R6)."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from jicai_policy.sections.common import Ratio, Section, SourceRef


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


class PrepaymentPhase(Section):
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


class Prepayment(Section):
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


class DirectSettlement(Section):
    """The fund paying companies directly (直接结算), deducted from the institution (R5)."""

    allowed: bool
    stage: Literal["in_force", "promoted", "exploratory"] = Field(
        description="in_force: the rule applies; promoted: the notice pushes it (加快推进/可); exploratory: pilot later (探索)"
    )
    deduct_from_institution_settlement: bool = True
    source: SourceRef


class PaymentStandard(Section):
    """Insurance payment standard (医保支付标准, R6)."""

    winning_price_is_standard: bool = True
    patient_pays_excess: bool = Field(description="超出支付标准的部分由患者自付")
    dearer_non_winning_self_pay_increase: Ratio | None = Field(
        default=None, description="points added to the first self-pay ratio for non-winning products dearer than the winning price"
    )
    adjustment_years: int | None = Field(default=None, ge=1, le=10, description="years to bring other products to the standard")
    source: SourceRef
