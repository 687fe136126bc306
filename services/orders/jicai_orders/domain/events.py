"""Domain events of the orders service (internal; translated at the edge)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from jicai_events.domain_events import DomainEvent, EventCodec


class ContractRecorded(DomainEvent):
    """The terms of a signed contract as the contracts service told us (our local copy)."""

    name = "ContractRecorded"
    contract_id: str
    institution_id: str
    pooling_region_code: str
    distributor_id: str
    manufacturer_id: str
    product_id: str
    unit_price: Decimal
    agreed_quantity: int
    cycle_start: date
    cycle_end: date


class AcceptanceRecorded(DomainEvent):
    """An institution's HIS reported the receipt check (验收) of one delivery line."""

    name = "AcceptanceRecorded"
    acceptance_id: str
    external_id: str
    institution_id: str
    pooling_region_code: str
    contract_id: str
    product_id: str
    distributor_id: str
    manufacturer_id: str
    accepted_quantity: int
    rejected_quantity: int
    rejection_reason: str | None
    accepted_on: date
    lot_number: str
    unit_price: Decimal
    accepted_amount: Decimal
    channel: str = "platform"
    order_id: str | None = None
    """The order (订单) this delivery fills, when the HIS names it."""


class GenericGroupRecorded(DomainEvent):
    """A generic group (同通用名 / 评审组) as the contracts service told us (our local copy)."""

    name = "GenericGroupRecorded"
    group_id: str
    batch_id: str
    generic_name: str
    dosage_form: str
    base_unit: str


class ProductRecorded(DomainEvent):
    """A winning or non-winning product as the contracts service told us: its group and conversion to base units."""

    name = "ProductRecorded"
    product_id: str
    winning: bool
    generic_group_id: str | None
    base_units_per_trading_unit: Decimal | None
    generic_name: str
    dosage_form: str
    specification: str


class PurchaseRecorded(DomainEvent):
    """An institution's HIS reported a purchase that is not an acceptance against a VBP contract."""

    name = "PurchaseRecorded"
    purchase_id: str
    external_id: str
    institution_id: str
    pooling_region_code: str
    product_id: str
    generic_group_id: str
    winning: bool
    channel: str
    quantity: int
    base_units: Decimal
    unit_price: Decimal
    amount: Decimal
    purchased_on: date


class InvoicedLine(BaseModel):
    """One invoice line matched to one acceptance, priced at the contract's unit price."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    acceptance_id: str
    contract_id: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    accepted_on: date


class InvoiceRecorded(DomainEvent):
    """The institution received (收到发票) a distributor's invoice, matched to its acceptances."""

    name = "InvoiceRecorded"
    invoice_id: str
    invoice_number: str
    institution_id: str
    distributor_id: str
    pooling_region_code: str
    issued_on: date
    received_on: date
    amount: Decimal
    lines: tuple[InvoicedLine, ...]
    latest_acceptance_on: date
    replaces_invoice_id: str | None = None
    """The voided invoice (红冲) this one replaces, if any."""


class InvoiceCredited(DomainEvent):
    """A credit note (红字发票, partial 红冲) reduced what the invoice asks for."""

    name = "InvoiceCredited"
    credit_note_id: str
    credit_note_number: str
    invoice_id: str
    institution_id: str
    pooling_region_code: str
    distributor_id: str
    amount: Decimal
    invoice_amount_after: Decimal
    received_on: date
    reason: str


class InvoiceVoided(DomainEvent):
    """The invoice was voided in full (全额红冲 / 作废): it asks for nothing and its units may be invoiced again."""

    name = "InvoiceVoided"
    invoice_id: str
    institution_id: str
    pooling_region_code: str
    distributor_id: str
    voided_on: date
    reason: str


class InvoiceReplaced(DomainEvent):
    """A voided invoice was replaced by a new one (orders-internal: claims the voided invoice once)."""

    name = "InvoiceReplaced"
    invoice_id: str
    replaced_by_invoice_id: str


InvoiceEvent = InvoiceRecorded | InvoiceCredited | InvoiceVoided | InvoiceReplaced


class DeliveryReturned(DomainEvent):
    """The institution returned (退货) part of an accepted delivery."""

    name = "DeliveryReturned"
    return_id: str
    acceptance_id: str
    institution_id: str
    pooling_region_code: str
    contract_id: str
    product_id: str
    distributor_id: str
    returned_quantity: int
    returned_amount: Decimal
    returned_on: date
    reason: str


class FilingPurchaseRecorded(DomainEvent):
    """A filing purchase (备案采购): a product not on the platform, bought after filing."""

    name = "FilingPurchaseRecorded"
    filing_id: str
    institution_id: str
    pooling_region_code: str
    generic_name: str
    specification: str
    manufacturer_name: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    purchased_on: date
    filed_on: date
    reason: str


class OrderedLine(BaseModel):
    """One line of an order: a contract's product, priced at the contract's winning price."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    contract_id: str
    product_id: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


class OrderPlaced(DomainEvent):
    """The institution placed an order (订单) with its contracts' distributor."""

    name = "OrderPlaced"
    order_id: str
    institution_id: str
    pooling_region_code: str
    distributor_id: str
    placed_on: date
    amount: Decimal
    lines: tuple[OrderedLine, ...]


class OrderConfirmed(DomainEvent):
    """The distributor confirmed the order (确认订单)."""

    name = "OrderConfirmed"
    order_id: str
    institution_id: str
    distributor_id: str
    confirmed_on: date


class OrderShipped(DomainEvent):
    """The distributor shipped the order (配送)."""

    name = "OrderShipped"
    order_id: str
    institution_id: str
    distributor_id: str
    shipped_on: date


class OrderCancelled(DomainEvent):
    """The institution cancelled the order before it was shipped (撤单)."""

    name = "OrderCancelled"
    order_id: str
    institution_id: str
    distributor_id: str
    cancelled_on: date
    reason: str


OrderEvent = OrderPlaced | OrderConfirmed | OrderShipped | OrderCancelled

OrdersEvent = (
    ContractRecorded | AcceptanceRecorded | InvoiceEvent | GenericGroupRecorded | ProductRecorded | PurchaseRecorded | OrderEvent
    | DeliveryReturned | FilingPurchaseRecorded
)

codec: EventCodec[OrdersEvent] = EventCodec(
    ContractRecorded, AcceptanceRecorded, InvoiceRecorded, GenericGroupRecorded, ProductRecorded, PurchaseRecorded,
    OrderPlaced, OrderConfirmed, OrderShipped, OrderCancelled, DeliveryReturned, InvoiceCredited, InvoiceVoided, InvoiceReplaced,
    FilingPurchaseRecorded,
)
