"""Request and response bodies of the settlement API. Money travels as strings, exact to the fen."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from jicai_events.types import Identifier, Money
from jicai_kit.commands import Recorded
from jicai_kit.validity import BusinessDate, Input, MoneyIn, YearMonth
from jicai_settlement.domain.settlement_state import MonthlySettlementStatus

MAX_ALLOCATIONS = 1000
"""Invoices one payment may settle: a month of a hospital's invoices from one distributor fits many times over."""


class AllocationIn(Input):
    invoice_id: Identifier
    amount: MoneyIn


class PaymentIn(Input):
    """回款: an institution pays a distributor, allocated to one or more of its invoices."""

    payment_id: Identifier
    institution_id: Identifier
    distributor_id: Identifier
    paid_on: BusinessDate
    amount: MoneyIn = Field(description="the whole payment; must equal the sum of the allocations")
    allocations: list[AllocationIn] = Field(min_length=1, max_length=MAX_ALLOCATIONS)
    reference: str | None = Field(None, max_length=200, description="bank transfer reference")


class MonthlySettlementIn(Input):
    """医保月结算 reported by the fund's information system."""

    settlement_id: Identifier
    institution_id: Identifier
    month: YearMonth
    amount: MoneyIn




class MonthlySettlementRecorded(Recorded):
    status: MonthlySettlementStatus


class AllocationOut(BaseModel):
    invoice_id: str
    amount: Money


class PaymentOut(BaseModel):
    payment_id: str
    institution_id: str
    distributor_id: str
    paid_on: date
    amount: Money
    reference: str | None
    payer: Literal["institution", "insurance_fund"] = Field(description="insurance_fund: a direct settlement (直接结算)")
    allocations: list[AllocationOut]


class InvoicePaymentOut(BaseModel):
    payment_id: str
    paid_on: date
    amount: Money


class CreditNoteOut(BaseModel):
    """红字发票: a credit note that reduced what the invoice asks for."""

    credit_note_id: str
    credit_note_number: str
    amount: Money
    amount_after: Money
    received_on: date
    reason: str


class InvoiceOut(BaseModel):
    invoice_id: str
    institution_id: str
    distributor_id: str
    received_on: date
    amount: Money = Field(description="the amount invoiced")
    amount_due: Money = Field(description="what the invoice asks for after credit notes and voids (红冲)")
    paid: Money
    outstanding: Money
    refundable_credit: Money = Field(description="paid beyond amount_due: owed back to the institution (no refund flow here)")
    status: Literal["unpaid", "partially_paid", "paid", "voided"]
    voided_on: date | None
    void_reason: str | None
    credit_notes: list[CreditNoteOut]
    payments: list[InvoicePaymentOut]


class RefundableCreditsOut(BaseModel):
    institution_id: str
    refundable_credit: Money = Field(description="the sum over the invoices below")
    invoices: list[InvoiceOut]


class WithholdOut(BaseModel):
    decision_id: str
    invoice_id: str
    warned_on: date
    withheld_from: date
    outstanding_amount: Money
    profile_id: str
    profile_version: int


class HistoryEntry(BaseModel):
    kind: Literal["withheld", "released"]
    on: date = Field(description="withheld_from for a withhold, released_on for a release")
    decision_id: str = Field(description="the withhold decision, or the release decision")
    withhold_decision_id: str
    invoice_id: str


class SuspensionOut(BaseModel):
    """暂停医保月结算 (R3): agreed volume below the suspension line at a period end."""

    decision_id: str
    period_end: date
    ratio: Decimal = Field(description="completion of the cumulative agreed volume at the period end")
    suspend_below: Decimal
    suspended_from: date
    profile_id: str
    profile_version: int
    resumed_on: date | None
    resume_decision_id: str | None
    resume_reason: Literal["target_met", "exemption"] | None = Field(description="target_met: completion caught up; exemption: force majeure (不可抗力)")


class SettlementStatusOut(BaseModel):
    institution_id: str
    status: Literal["withheld", "suspended", "withheld_and_suspended", "normal"]
    active_withholds: list[WithholdOut]
    history: list[HistoryEntry]
    active_suspensions: list[SuspensionOut] = Field(default_factory=list)
    suspensions: list[SuspensionOut] = Field(default_factory=list, description="every suspension, resumed ones too")


class MonthlySettlementOut(BaseModel):
    settlement_id: str
    institution_id: str
    month: str
    amount: Money
    status: MonthlySettlementStatus
    reason: str
    withheld_by: list[str]
    suspended_by: list[str]
    released_on: date | None
    release_decision_id: str | None
    release_reason: str | None
    direct_settlement_deductions: Money = Field(description="direct settlements (直接结算) of the month deducted from it")
    net_paid: Decimal = Field(description="amount minus the deductions; negative when the fund paid distributors more")


class DirectSettlementOut(BaseModel):
    payment_id: str
    distributor_id: str
    paid_on: date
    month: str = Field(description="the monthly settlement it is deducted from")
    amount: Money


# ---- prepayments (医保预付, R5) --------------------------------------------------------------


class DisbursementIn(Input):
    """The fund disburses (拨付) prepayment of one phase of an institution's yearly schedule."""

    disbursement_id: Identifier
    institution_id: Identifier
    year: int = Field(ge=2000, le=2100, description="the schedule: agreements starting in this calendar year")
    phase: int = Field(ge=1, le=10)
    amount: MoneyIn
    disbursed_on: BusinessDate
    partial: bool = Field(False, description="true to disburse below the phase's floor (the shortfall stays visible)")
    last_year_average_monthly_fund_payment: MoneyIn | None = Field(
        None, description="Guizhou: last year's average monthly fund payment as the fund states it; wins over the reported months"
    )


class LiquidationIn(Input):
    """清算: the year's prepayments against the institution's VBP invoices after 红冲, at the end of the cycle."""

    liquidation_id: Identifier
    institution_id: Identifier
    year: int = Field(ge=2000, le=2100)
    liquidated_on: BusinessDate


class InstalmentOut(BaseModel):
    phase: int
    triggers: list[str]
    minimum_amount: Money = Field(description="the floor of the phase (a minimum: more may be disbursed)")
    basis: str = Field(description="how the floor was computed")
    due_on: date | None = Field(description="when it becomes due, as far as known")
    due_by: str | None = Field(description="the trigger that makes it due and its date")
    due: bool = Field(description="due as of the view's date")
    disbursed: Money
    shortfall: Money = Field(description="floor minus disbursed, once due")


class DisbursementOut(BaseModel):
    disbursement_id: str
    phase: int
    amount: Money
    disbursed_on: date
    partial: bool


class LiquidationOut(BaseModel):
    liquidation_id: str
    liquidated_on: date
    prepaid: Money
    invoiced: Money
    outcome: Literal["return", "top_up", "settled"]
    amount: Money


class PrepaymentScheduleOut(BaseModel):
    schedule_id: str
    institution_id: str
    year: int
    as_of: date
    profile_id: str
    profile_version: int
    source: str
    procurement_budget: Money = Field(description="采购预算: agreed volume × unit price of the agreements starting in the year")
    agreements: list[str]
    earmarked: bool = Field(description="专款专用")
    cycle_end: date | None = Field(description="liquidation (清算) is due from here")
    instalments: list[InstalmentOut]
    disbursed: Money
    disbursements: list[DisbursementOut]
    liquidation: LiquidationOut | None
