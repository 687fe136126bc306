"""Facts owned by the settlement service: payments, monthly settlements, prepayments."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from jicai_events.base import IntegrationEvent, integration_event
from jicai_events.types import Identifier, Money


class _SettlementEvent(IntegrationEvent):
    source_service = "settlement"


class PaymentAllocation(BaseModel):
    """The part of a payment that goes to one invoice."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    invoice_id: Identifier
    amount: Money


@integration_event
class PaymentRecorded(_SettlementEvent):
    """The institution paid (回款) a distributor for one or more invoices."""

    event_name = "PaymentRecorded"
    payment_id: Identifier
    institution_id: Identifier
    distributor_id: Identifier
    paid_on: date
    amount: Money
    allocations: tuple[PaymentAllocation, ...] = Field(min_length=1)
    reference: str | None = None
    payer: Literal["institution", "insurance_fund"] = Field(
        "institution", description="insurance_fund: direct settlement (直接结算), deducted from the institution's monthly settlement"
    )

    def subject(self) -> str:
        return self.payment_id


@integration_event
class MonthlySettlementReported(_SettlementEvent):
    """The insurance system reported an institution's monthly settlement (医保月结算) amount."""

    event_name = "MonthlySettlementReported"
    settlement_id: Identifier
    institution_id: Identifier
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    amount: Money
    status: str = Field(description="issued | withheld | suspended at the time of the report")

    def subject(self) -> str:
        return self.settlement_id


@integration_event
class MonthlySettlementReleased(_SettlementEvent):
    """A withheld or suspended monthly settlement was paid out after all (恢复拨付)."""

    event_name = "MonthlySettlementReleased"
    settlement_id: Identifier
    institution_id: Identifier
    month: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    amount: Money
    released_on: date
    reason: str = Field(description="why it was released, e.g. the decision that lifted the withhold")

    def subject(self) -> str:
        return self.settlement_id


# ---- prepayments (医保预付, R5): produced and read by settlement only, published for monitoring -----------------

ScheduleId = Annotated[str, Field(min_length=6, max_length=80, description="{institution_id}-{year}: one institution's schedule of one year")]


class PrepaymentInstalment(BaseModel):
    """One phase (期) of a prepayment schedule: its floor and the triggers that make it due."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    phase: int = Field(ge=1)
    triggers: tuple[str, ...] = Field(min_length=1, description="contract_signed | half_cycle_elapsed | agreed_volume_share_reached | annual")
    minimum_amount: Money
    basis: str = Field(description="how the floor was computed, naming the profile's shares")


@integration_event
class PrepaymentScheduled(_SettlementEvent):
    """The prepayment schedule of an institution's year (agreements starting in it) was computed or changed."""

    event_name = "PrepaymentScheduled"
    schedule_id: ScheduleId
    institution_id: Identifier
    year: int = Field(ge=2000, le=2100)
    procurement_budget: Money = Field(description="采购预算: agreed volume × unit price over the year's agreements")
    profile_id: str
    profile_version: int
    instalments: tuple[PrepaymentInstalment, ...] = Field(min_length=1)

    def subject(self) -> str:
        return self.schedule_id


@integration_event
class PrepaymentDisbursed(_SettlementEvent):
    """The insurance fund disbursed (拨付) prepayment of one phase to the institution."""

    event_name = "PrepaymentDisbursed"
    disbursement_id: Identifier
    schedule_id: ScheduleId
    institution_id: Identifier
    year: int = Field(ge=2000, le=2100)
    phase: int = Field(ge=1)
    amount: Money
    disbursed_on: date
    partial: bool = Field(description="true: below the phase's floor, stated so by the fund")

    def subject(self) -> str:
        return self.disbursement_id


@integration_event
class PrepaymentLiquidated(_SettlementEvent):
    """The year's prepayments were liquidated (清算) against the institution's VBP invoice amounts after 红冲."""

    event_name = "PrepaymentLiquidated"
    liquidation_id: Identifier
    schedule_id: ScheduleId
    institution_id: Identifier
    year: int = Field(ge=2000, le=2100)
    liquidated_on: date
    prepaid: Money
    invoiced: Money
    outcome: Literal["return", "top_up", "settled"] = Field(description="return: the institution returns the excess; top_up: the fund pays more")
    amount: Money = Field(description="the amount to return or to top up")

    def subject(self) -> str:
        return self.liquidation_id
