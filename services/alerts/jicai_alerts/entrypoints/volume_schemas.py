"""Bodies of the volume-completion API (R3): exemptions in, completion and shortfall out."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from jicai_events.types import Identifier, Money
from jicai_kit.validity import BusinessDate, Input


class ExemptionIn(Input):
    """不可抗力: period ends from ``from`` to ``to`` (inclusive) bring no warning or suspension."""

    exemption_id: Identifier
    reason: str = Field(min_length=1, max_length=2000)
    from_date: BusinessDate = Field(alias="from")
    to_date: BusinessDate = Field(alias="to")

    model_config = ConfigDict(populate_by_name=True)


class RevocationIn(Input):
    reason: str = Field(min_length=1, max_length=2000)


class ExemptionRecorded(BaseModel):
    exemption_id: str
    institution_id: str
    status: Literal["granted", "revoked"]


class ContractCompletionOut(BaseModel):
    contract_id: str
    product_id: str
    agreement_id: str | None = Field(None, description="the yearly agreement (年度采购协议) giving the target; null: the contract's own volume")
    agreed_quantity: int | None = Field(None, description="the agreed volume in force at the period end (after amendments)")
    target_quantity: Decimal = Field(description="cumulative target at the period end: agreed × k / n of the agreement year")
    accepted_quantity: int = Field(description="accepted within the agreement year by the period end, less returns (退货)")
    target_amount: Money
    accepted_amount: Money
    ratio: Decimal = Field(description="accepted / target, capped at 1")
    weight: Decimal = Field(description="share of the target amount")


class VolumeDecisionOut(BaseModel):
    decision_id: str
    kind: Literal["volume_warning", "settlement_suspended", "settlement_resumed"]
    effective_on: date = Field(description="period end (warning), suspended from, or resumed on")
    ratio: Decimal
    profile_id: str
    profile_version: int
    caused_by: list[str]


class PeriodOut(BaseModel):
    period_end: date
    ratio: Decimal = Field(description="Σ weight × min(1, accepted / target): over-buying one drug never hides another")
    target_amount: Money
    accepted_amount: Money
    exemption_id: str | None
    profile_id: str | None
    profile_version: int | None
    contracts: list[ContractCompletionOut]
    decisions: list[VolumeDecisionOut]


class ExemptionOut(BaseModel):
    exemption_id: str
    reason: str
    from_date: date
    to_date: date
    granted_by: str
    revoked_reason: str | None
    revoked_by: str | None


class VolumeCompletionOut(BaseModel):
    institution_id: str
    status: Literal["normal", "suspended"]
    suspension_decision_id: str | None
    suspended_from: date | None
    next_period_end: date | None
    periods: list[PeriodOut]
    exemptions: list[ExemptionOut]


class ShortfallOut(BaseModel):
    """One institution's year-end shortfall (Guizhou §五(五)): each contract capped, so surplus never offsets."""

    institution_id: str
    agreed_quantity: int
    accepted_quantity: int = Field(
        description="accepted within the agreement years (less returns), each contract counted up to its agreed quantity"
    )
    shortfall_quantity: int
    agreed_amount: Money
    accepted_amount: Money
    shortfall_amount: Money
    contracts: int
