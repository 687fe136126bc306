"""Monitoring: the indicators (监测考核指标, R7) and the manufacturers' monthly report."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from jicai_policy.sections.common import Section, SourceRef


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


class Kpis(Section):
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


class ManufacturerReport(Section):
    """Manufacturers' monthly report (生产、供应、库存、回款) due day."""

    due_day_of_month: int = Field(ge=1, le=28, description="report on the previous month by this day")
    covers: tuple[Literal["production", "supply", "stock", "payments_received"], ...] = Field(min_length=1)
    source: SourceRef
