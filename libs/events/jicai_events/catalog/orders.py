"""Facts owned by the orders service: acceptances pushed by HIS, invoices."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from jicai_events.base import IntegrationEvent, integration_event
from jicai_events.types import Identifier, Money, Quantity, UnitPrice


class _OrdersEvent(IntegrationEvent):
    source_service = "orders"


@integration_event
class DeliveryAccepted(_OrdersEvent):
    """The institution's receipt check (验收) of a delivery, as reported by its HIS."""

    event_name = "DeliveryAccepted"
    acceptance_id: Identifier
    external_id: str = Field(description="the HIS line id, unique per institution")
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="统筹区 of the institution, from the contract")
    contract_id: Identifier
    product_id: Identifier
    distributor_id: Identifier
    accepted_quantity: Quantity
    rejected_quantity: Quantity
    rejection_reason: str | None = None
    accepted_on: date = Field(description="验收合格 date; starts the payment clock")
    lot_number: str
    unit_price: UnitPrice
    accepted_amount: Money

    def subject(self) -> str:
        return self.acceptance_id


class InvoiceLine(BaseModel):
    """One invoice line matched to one accepted delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    acceptance_id: Identifier
    contract_id: Identifier
    quantity: Quantity
    unit_price: UnitPrice
    amount: Money
    accepted_on: date


@integration_event
class InvoiceReceived(_OrdersEvent):
    """The institution received (收到发票) a distributor's invoice, matched to acceptances."""

    event_name = "InvoiceReceived"
    invoice_id: Identifier
    invoice_number: str
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$", description="统筹区 of the institution, from the contracts")
    distributor_id: Identifier
    issued_on: date
    received_on: date
    amount: Money
    lines: tuple[InvoiceLine, ...] = Field(min_length=1)
    latest_acceptance_on: date = Field(description="the latest acceptance date of the matched deliveries")

    def subject(self) -> str:
        return self.invoice_id
