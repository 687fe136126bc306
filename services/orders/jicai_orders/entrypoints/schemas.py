"""Request and response bodies of the orders API."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, computed_field, field_validator, model_validator

from jicai_events.catalog.orders import BaseUnits, Channel
from jicai_events.types import Identifier, Money, Quantity, UnitPrice
from jicai_kit.commands import Recorded
from jicai_kit.validity import BusinessDate, Input, MoneyIn, UnitPriceIn

MAX_BATCH_LINES = 1000

ExternalId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="the HIS line id, unique within the institution; no ':' (the acceptance id is institution_id:external_id)",
    ),
]


class AcceptanceLineIn(Input):
    """One delivery line as the HIS checked it (验收)."""

    external_id: ExternalId
    contract_id: Identifier
    accepted_quantity: Quantity = Field(description="验收合格 quantity, in trading units")
    rejected_quantity: Quantity = Field(0, description="quantity refused at the receipt check")
    rejection_reason: str | None = Field(
        None, max_length=500, validate_default=True, description="required when rejected_quantity > 0"
    )
    accepted_on: BusinessDate = Field(description="验收合格 date: starts the payment clock")
    lot_number: str = Field(min_length=1, max_length=64, description="批号")
    channel: Channel = Field("platform", description="platform, or offline (线下采购) when bought outside the platform")
    order_id: Identifier | None = Field(None, description="the shipped order (订单) this delivery fills, if any")
    product_id: Identifier | None = Field(None, description="optional; when stated it must be the contract's product")
    unit_price: UnitPriceIn | None = Field(None, description="optional; when stated it must be the contract's winning price")

    @field_validator("rejection_reason")
    @classmethod
    def _reason_for_rejections(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("rejected_quantity", 0) > 0 and not (value or "").strip():
            raise ValueError("is required when rejected_quantity > 0")
        return value


class AcceptanceBatchIn(Input):
    lines: list[AcceptanceLineIn] = Field(min_length=1, max_length=MAX_BATCH_LINES)


class LineResult(BaseModel):
    external_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    acceptance_id: str | None = None
    reason: str | None = None


class BatchResult(BaseModel):
    results: list[LineResult] = Field(description="one per pushed line, in the order pushed")
    accepted: int = Field(description="lines recorded by this push")
    duplicates: int = Field(description="lines recorded already by an earlier push with the same content")
    rejected: int = Field(description="lines not recorded; see each reason")

    # pydantic's documented ignore: mypy refuses any decorator stacked on @property.
    @computed_field(description="true when any line was rejected (as bulk APIs say it): look for status rejected")  # type: ignore[prop-decorator]
    @property
    def errors(self) -> bool:
        return self.rejected > 0


class Acceptance(BaseModel):
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
    unit_price: UnitPrice
    accepted_amount: Money = Field(description="accepted_quantity × unit_price, rounded to the fen half up")
    invoiced_quantity: int = Field(description="accepted units billed by recorded invoices")
    channel: Channel
    order_id: str | None
    returned_quantity: int = Field(description="accepted units given back (退货); no longer billable")


class PurchaseLineIn(Input):
    """One purchase that is not an acceptance against a VBP contract: non-winning (非中选) or offline (线下采购)."""

    external_id: ExternalId
    product_id: Identifier
    quantity: Annotated[int, Field(ge=1, le=10**12)] = Field(description="in the product's trading units, at least 1")
    unit_price: UnitPriceIn
    purchased_on: BusinessDate
    channel: Channel = Field(description="platform, or offline (线下采购) when bought outside the platform")


class PurchaseBatchIn(Input):
    lines: list[PurchaseLineIn] = Field(min_length=1, max_length=MAX_BATCH_LINES)


class PurchaseLineResult(BaseModel):
    external_id: str
    status: Literal["accepted", "duplicate", "rejected"]
    purchase_id: str | None = None
    reason: str | None = None


class PurchaseBatchResult(BaseModel):
    results: list[PurchaseLineResult] = Field(description="one per reported line, in the order reported")
    accepted: int = Field(description="lines recorded by this report")
    duplicates: int = Field(description="lines recorded already by an earlier report with the same content")
    rejected: int = Field(description="lines not recorded; see each reason")

    # pydantic's documented ignore: mypy refuses any decorator stacked on @property.
    @computed_field(description="true when any line was rejected (as bulk APIs say it): look for status rejected")  # type: ignore[prop-decorator]
    @property
    def errors(self) -> bool:
        return self.rejected > 0


class Purchase(BaseModel):
    purchase_id: str
    external_id: str
    institution_id: str
    pooling_region_code: str
    product_id: str
    generic_group_id: str
    winning: bool
    channel: Channel
    quantity: int
    base_units: BaseUnits = Field(description="quantity × the product's base units per trading unit")
    unit_price: UnitPrice
    amount: Money = Field(description="quantity × unit_price, rounded to the fen half up")
    purchased_on: date


class InvoiceLineIn(Input):
    acceptance_id: Identifier
    quantity: Annotated[int, Field(ge=1, le=10**12)] = Field(description="units of that acceptance billed by this line, at least 1")


class InvoiceIn(Input):
    """发票: a distributor's invoice to an institution, matched to its acceptances."""

    invoice_id: Identifier
    invoice_number: str = Field(min_length=1, max_length=64, description="发票号码")
    distributor_id: Identifier
    institution_id: Identifier
    issued_on: BusinessDate = Field(description="开票日期")
    received_on: BusinessDate = Field(description="收到发票 date: may start the payment clock")
    amount: MoneyIn = Field(description="Σ quantity × unit_price, each line rounded to the fen half up")
    lines: list[InvoiceLineIn] = Field(min_length=1, max_length=MAX_BATCH_LINES)
    replaces_invoice_id: Identifier | None = Field(None, description="the voided invoice (红冲) this one replaces: same institution and distributor")


class InvoiceLine(BaseModel):
    line_no: int
    acceptance_id: str
    contract_id: str
    quantity: int
    unit_price: UnitPrice
    amount: Money
    accepted_on: date


class InvoiceSummary(BaseModel):
    invoice_id: str
    invoice_number: str
    institution_id: str
    distributor_id: str
    pooling_region_code: str
    issued_on: date
    received_on: date
    amount: Money = Field(description="the original amount, as received")
    latest_acceptance_on: date
    credited_amount: Money = Field(description="Σ credit notes (红字发票)")
    current_amount: Money = Field(description="what the invoice still asks for: amount − credits; 0 once voided")
    status: Literal["issued", "credited", "voided", "replaced"]
    voided_on: date | None
    void_reason: str | None
    replaces_invoice_id: str | None
    replaced_by_invoice_id: str | None

    @model_validator(mode="before")
    @classmethod
    def _status(cls, row: Any) -> Any:
        """Read rows carry no status: replaced (voided and replaced) > voided > credited > issued."""
        if not isinstance(row, dict) or "status" in row:
            return row
        if row.get("replaced_by_invoice_id"):
            status = "replaced"
        elif row.get("voided_on"):
            status = "voided"
        else:
            status = "credited" if row.get("credited_amount") else "issued"
        return {**row, "status": status}


class CreditNote(BaseModel):
    credit_note_id: str
    credit_note_number: str
    amount: Money
    invoice_amount_after: Money
    received_on: date
    reason: str


class Invoice(InvoiceSummary):
    lines: list[InvoiceLine]
    credit_notes: list[CreditNote]


class CreditNoteIn(Input):
    """红字发票: a credit note reducing what the invoice asks for."""

    credit_note_id: Identifier
    credit_note_number: str = Field(min_length=1, max_length=64, description="红字发票号码")
    amount: MoneyIn = Field(description="> 0 and at most what the invoice still asks for")
    received_on: BusinessDate = Field(description="the institution received the credit note")
    reason: str = Field(min_length=1, max_length=2000)


class VoidIn(Input):
    """全额红冲 / 作废: the whole invoice is cancelled."""

    voided_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)




class OrderLineIn(Input):
    contract_id: Identifier
    quantity: Annotated[int, Field(ge=1, le=10**12)] = Field(description="in the contract product's trading units, at least 1")
    product_id: Identifier | None = Field(None, description="optional; when stated it must be the contract's product")
    unit_price: UnitPriceIn | None = Field(None, description="optional; when stated it must be the contract's winning price")


class OrderIn(Input):
    """订单: an institution's order against its contracts, all delivered by one distributor."""

    order_id: Identifier
    institution_id: Identifier
    placed_on: BusinessDate
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_BATCH_LINES)


class OrderConfirmIn(Input):
    confirmed_on: BusinessDate


class OrderShipIn(Input):
    shipped_on: BusinessDate = Field(description="配送 date")


class OrderCancelIn(Input):
    cancelled_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)


class OrderLine(BaseModel):
    line_no: int
    contract_id: str
    product_id: str
    quantity: int
    unit_price: UnitPrice
    amount: Money
    accepted_quantity: int = Field(description="accepted by HIS acceptances naming this order")
    rejected_quantity: int = Field(description="refused at the receipt check by acceptances naming this order")


class Order(BaseModel):
    order_id: str
    institution_id: str
    distributor_id: str
    pooling_region_code: str
    placed_on: date
    amount: Money
    status: Literal["placed", "confirmed", "shipped", "partly_delivered", "delivered", "cancelled"]
    confirmed_on: date | None
    shipped_on: date | None
    cancelled_on: date | None
    cancel_reason: str | None
    lines: list[OrderLine]


class FilingPurchaseIn(Input):
    """备案采购: a product not listed on the platform, bought after filing (shortage, emergency)."""

    filing_id: Identifier
    institution_id: Identifier
    generic_name: str = Field(min_length=1, max_length=200)
    specification: str = Field(min_length=1, max_length=200)
    manufacturer_name: str = Field(min_length=1, max_length=200)
    quantity: Annotated[int, Field(ge=1, le=10**12)]
    unit_price: UnitPriceIn
    purchased_on: BusinessDate
    filed_on: BusinessDate = Field(description="备案 date")
    reason: str = Field(min_length=1, max_length=2000, description="why the product was bought outside the platform list")


class FilingStanding(BaseModel):
    """The institution's filing amount in a year against its profile's warning line (预警线, R7)."""

    year: int
    amount: Money = Field(description="Σ filing purchases made in the year")
    profile_id: str
    profile_version: int
    warning_line_enabled: bool
    warning_line: Money | None = Field(description="none when the profile sets no amount (disabled, or set per institution by the bureau)")
    over_line: bool | None = Field(description="amount > warning_line; none without a line")


class FilingRecorded(Recorded):
    standing: FilingStanding


class FilingPurchase(BaseModel):
    filing_id: str
    institution_id: str
    pooling_region_code: str
    generic_name: str
    specification: str
    manufacturer_name: str
    quantity: int
    unit_price: UnitPrice
    amount: Money
    purchased_on: date
    filed_on: date
    reason: str


class FilingYear(FilingStanding):
    institution_id: str
    filings: list[FilingPurchase]


class ReturnIn(Input):
    """退货: accepted units the institution gives back."""

    return_id: Identifier
    returned_quantity: Annotated[int, Field(ge=1, le=10**12)] = Field(description="at most accepted − already returned")
    returned_on: BusinessDate
    reason: str = Field(min_length=1, max_length=2000)
