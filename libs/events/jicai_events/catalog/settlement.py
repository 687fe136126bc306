"""Facts owned by the settlement service: payments, monthly settlements."""
from __future__ import annotations

from datetime import date
from typing import Literal

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
