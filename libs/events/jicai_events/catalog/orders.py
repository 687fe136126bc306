"""Facts owned by the orders service: acceptances pushed by HIS, invoices."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from jicai_events.base import IntegrationEvent, integration_event
from jicai_events.types import Identifier, Money, Quantity, UnitPrice

Channel = Literal["platform", "offline"]
"""Where a purchase was made: on the platform, or outside it (线下采购, a KPI violation)."""


def _four_places(value: Decimal) -> Decimal:
    if not value.is_finite() or value != value.quantize(Decimal("0.0001")):
        raise ValueError("must be a finite number with at most 4 decimal places")
    return value.quantize(Decimal("0.0001"))


BaseUnits = Annotated[
    Decimal, Field(ge=0, max_digits=24), AfterValidator(_four_places),
    PlainSerializer(lambda v: str(v), return_type=str, when_used="json"),
]
"""A quantity in a generic group's base unit (e.g. 片), up to 4 decimal places."""


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
    channel: Channel = Field("platform", description="platform, or offline (线下采购) when bought outside the platform")

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
    replaces_invoice_id: Identifier | None = Field(None, description="the voided invoice (红冲) this one replaces, if any")

    def subject(self) -> str:
        return self.invoice_id


@integration_event
class PurchaseRecorded(_OrdersEvent):
    """A purchase that is not an acceptance against a VBP contract: a non-winning product, or bought offline (线下采购)."""

    event_name = "PurchaseRecorded"
    purchase_id: Identifier
    external_id: str = Field(description="the HIS line id, unique per institution")
    institution_id: Identifier
    pooling_region_code: str | None = Field(None, pattern=r"^\d{6}$", description="统筹区 of the institution, from its contracts")
    product_id: Identifier
    generic_group_id: Identifier
    winning: bool = Field(description="whether the product is a winning product (中选) of its group")
    channel: Channel
    quantity: Quantity = Field(description="in the product's trading units")
    base_units: BaseUnits = Field(description="quantity × the product's base units per trading unit")
    unit_price: UnitPrice
    amount: Money = Field(description="quantity × unit_price, rounded to the fen half up")
    purchased_on: date

    def subject(self) -> str:
        return self.purchase_id


@integration_event
class DeliveryReturned(_OrdersEvent):
    """Accepted goods were returned (退货): the returned quantity no longer counts toward the agreed volume."""

    event_name = "DeliveryReturned"
    return_id: Identifier
    acceptance_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$")
    contract_id: Identifier
    product_id: Identifier
    distributor_id: Identifier
    returned_quantity: Quantity = Field(gt=0)
    returned_amount: Money = Field(description="returned_quantity × the acceptance's unit price")
    returned_on: date
    reason: str = Field(min_length=1, max_length=2000)

    def subject(self) -> str:
        return self.return_id


@integration_event
class InvoiceCredited(_OrdersEvent):
    """A credit note (红字发票, partial 红冲) reduced what an invoice asks for."""

    event_name = "InvoiceCredited"
    credit_note_id: Identifier
    credit_note_number: str
    invoice_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$")
    distributor_id: Identifier
    amount: Money = Field(description="the amount credited, > 0")
    invoice_amount_after: Money = Field(description="what the invoice asks for after this and every earlier credit note")
    received_on: date = Field(description="the institution received the credit note")
    reason: str = Field(min_length=1, max_length=2000)

    def subject(self) -> str:
        return self.invoice_id


@integration_event
class InvoiceVoided(_OrdersEvent):
    """An invoice was voided in full (全额红冲 / 作废): it no longer asks for anything."""

    event_name = "InvoiceVoided"
    invoice_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$")
    distributor_id: Identifier
    voided_on: date
    reason: str = Field(min_length=1, max_length=2000)

    def subject(self) -> str:
        return self.invoice_id


@integration_event
class FilingPurchaseRecorded(_OrdersEvent):
    """A filing purchase (备案采购): a product not on the platform, bought after filing (shortage, emergency)."""

    event_name = "FilingPurchaseRecorded"
    filing_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$")
    generic_name: str = Field(min_length=1, max_length=200)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_name: str = Field(min_length=1, max_length=200)
    quantity: Quantity = Field(gt=0)
    unit_price: UnitPrice
    amount: Money = Field(description="quantity × unit_price, rounded to the fen half up")
    purchased_on: date
    filed_on: date
    reason: str = Field(min_length=1, max_length=2000, description="why the product was bought outside the platform list")

    def subject(self) -> str:
        return self.filing_id


# ---- orders (订单): produced and read only by the orders service today ------------------------


class OrderLine(BaseModel):
    """One line of an order: a contract's product at the contract's winning price."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    contract_id: Identifier
    product_id: Identifier
    quantity: Quantity = Field(gt=0)
    unit_price: UnitPrice
    amount: Money = Field(description="quantity × unit_price, rounded to the fen half up")


@integration_event
class OrderPlaced(_OrdersEvent):
    """The institution placed an order (订单) against its contracts with their distributor."""

    event_name = "OrderPlaced"
    order_id: Identifier
    institution_id: Identifier
    pooling_region_code: str = Field(pattern=r"^\d{6}$")
    distributor_id: Identifier
    placed_on: date
    amount: Money
    lines: tuple[OrderLine, ...] = Field(min_length=1)

    def subject(self) -> str:
        return self.order_id


@integration_event
class OrderConfirmed(_OrdersEvent):
    """The distributor confirmed the order (确认订单)."""

    event_name = "OrderConfirmed"
    order_id: Identifier
    institution_id: Identifier
    distributor_id: Identifier
    confirmed_on: date

    def subject(self) -> str:
        return self.order_id


@integration_event
class OrderShipped(_OrdersEvent):
    """The distributor shipped the order (配送)."""

    event_name = "OrderShipped"
    order_id: Identifier
    institution_id: Identifier
    distributor_id: Identifier
    shipped_on: date

    def subject(self) -> str:
        return self.order_id


@integration_event
class OrderCancelled(_OrdersEvent):
    """The institution cancelled the order before it was shipped."""

    event_name = "OrderCancelled"
    order_id: Identifier
    institution_id: Identifier
    distributor_id: Identifier
    cancelled_on: date
    reason: str = Field(min_length=1, max_length=2000)

    def subject(self) -> str:
        return self.order_id
