"""Domain events of the settlement service (internal; translated at the edge).

Five kinds of stream:

- ``invoice-{invoice_id}``: the invoice as settlement knows it and every
  payment applied to it (its stream version guards against overpayment);
- ``payment-{payment_id}``: one payment (回款) of an institution to a distributor;
- ``institution-settlement-{institution_id}``: withholds (暂缓拨付), suspensions
  for missed agreed volumes (暂停医保月结算, R3), their lifting, the monthly
  settlements (医保月结算) reported meanwhile, and the direct settlements
  (直接结算) deducted from them;
- ``contract-{contract_id}``: a volume contract's institution, cycle (and its
  extensions), acceptances and returns, as the prepayment schedule needs them;
- ``prepayment-{institution_id}-{year}``: the yearly agreements starting in
  that year, the prepayment schedule (医保预付), disbursements and liquidation (清算).
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from jicai_events.domain_events import DomainEvent, EventCodec


class InvoiceRecorded(DomainEvent):
    """The institution received a distributor's invoice (from the orders service)."""

    name = "InvoiceRecorded"
    invoice_id: str
    institution_id: str
    distributor_id: str
    amount: Decimal
    received_on: date
    pooling_region_code: str | None
    """统筹区 of the institution; None only on invoices stored at version 1, before direct settlement needed it."""

    class_version = 2

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        """Version 1 had no region (later version-1 rows carry it, possibly null)."""
        return {"pooling_region_code": None, **data}


class InvoiceCreditApplied(DomainEvent):
    """A credit note (红字发票, partial 红冲) reduced what the invoice asks for to ``amount_after``."""

    name = "InvoiceCreditApplied"
    invoice_id: str
    credit_note_id: str
    credit_note_number: str
    amount: Decimal
    amount_after: Decimal
    received_on: date
    reason: str


class InvoiceVoidRecorded(DomainEvent):
    """The invoice was voided in full (全额红冲 / 作废): it asks for nothing any more."""

    name = "InvoiceVoidRecorded"
    invoice_id: str
    voided_on: date
    reason: str


class InvoicePaymentApplied(DomainEvent):
    """Part of a payment went to this invoice, reducing what is owed."""

    name = "InvoicePaymentApplied"
    invoice_id: str
    payment_id: str
    amount: Decimal
    paid_on: date


class Allocation(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    invoice_id: str
    amount: Decimal


class PaymentRecorded(DomainEvent):
    """The institution paid (回款) a distributor for one or more invoices."""

    name = "PaymentRecorded"
    payment_id: str
    institution_id: str
    distributor_id: str
    paid_on: date
    amount: Decimal
    allocations: tuple[Allocation, ...]
    reference: str | None = None
    payer: Literal["institution", "insurance_fund"] = "institution"
    """insurance_fund: direct settlement (直接结算), deducted from the institution's monthly settlement."""


class WithholdRecorded(DomainEvent):
    """The alerts service decided to withhold the institution's monthly settlement (R2)."""

    name = "WithholdRecorded"
    institution_id: str
    decision_id: str
    invoice_id: str
    warned_on: date
    withheld_from: date
    outstanding_amount: Decimal
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


class WithholdLifted(DomainEvent):
    """A release decision lifted one withhold (回款后恢复拨付)."""

    name = "WithholdLifted"
    institution_id: str
    decision_id: str
    invoice_id: str
    release_decision_id: str
    released_on: date
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


class SuspensionRecorded(DomainEvent):
    """The alerts service suspended the institution's monthly settlement from ``suspended_from`` (R3)."""

    name = "SuspensionRecorded"
    institution_id: str
    decision_id: str
    period_end: date
    ratio: Decimal
    suspend_below: Decimal
    suspended_from: date
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


class SuspensionLifted(DomainEvent):
    """A resumption decision lifted a suspension (完成累计采购量后恢复月结算, or an exemption)."""

    name = "SuspensionLifted"
    institution_id: str
    decision_id: str
    resume_decision_id: str
    resumed_on: date
    reason: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


class MonthlySettlementRecorded(DomainEvent):
    """The fund reported a monthly settlement; its status is decided at that moment."""

    name = "MonthlySettlementRecorded"
    institution_id: str
    settlement_id: str
    month: str
    amount: Decimal
    status: Literal["issued", "withheld", "suspended"]
    reason: str
    withheld_by: tuple[str, ...] = ()
    suspended_by: tuple[str, ...] = ()


class MonthlySettlementReleased(DomainEvent):
    """Nothing holds a withheld or suspended settlement back any more: it is paid out."""

    name = "MonthlySettlementReleased"
    institution_id: str
    settlement_id: str
    released_on: date
    release_decision_id: str
    # Carried for the integration event (MonthlySettlementReleased); None only on releases stored at version 1.
    month: str | None
    amount: Decimal | None
    reason: str | None

    class_version = 2

    @staticmethod
    def upcast_v1_v2(data: dict[str, Any]) -> dict[str, Any]:
        """Version 1 releases, stored before the integration event existed, did not say what was released."""
        return {"month": None, "amount": None, "reason": None, **data}


class ContractNoted(DomainEvent):
    """A volume contract settlement prepays against (from the contracts service): its institution and cycle."""

    name = "ContractNoted"
    contract_id: str
    institution_id: str
    pooling_region_code: str
    cycle_start: date
    cycle_end: date
    signed_on: date


class ContractCycleMoved(DomainEvent):
    """The contract's procurement cycle was extended (延长): liquidation moves to the new end."""

    name = "ContractCycleMoved"
    contract_id: str
    cycle_end: date
    extended_on: date


class AcceptanceNoted(DomainEvent):
    """Accepted quantity of a contract (验收), counted toward the prepayment's volume trigger."""

    name = "AcceptanceNoted"
    contract_id: str
    acceptance_id: str
    accepted_on: date
    accepted_quantity: int


class ReturnNoted(DomainEvent):
    """Accepted goods of a contract were returned (退货): they no longer count toward the volume trigger."""

    name = "ReturnNoted"
    contract_id: str
    return_id: str
    returned_on: date
    returned_quantity: int


class AgreementNoted(DomainEvent):
    """A yearly agreement (年度采购协议) signed or rolled over: agreed volume × unit price adds to the procurement budget."""

    name = "AgreementNoted"
    agreement_id: str
    contract_id: str
    institution_id: str
    pooling_region_code: str
    agreement_year: int
    year_start: date
    year_end: date
    agreed_quantity: int
    unit_price: Decimal
    signed_on: date


class AgreementAmendmentNoted(DomainEvent):
    """The agreed volume of a yearly agreement changed (调整约定采购量)."""

    name = "AgreementAmendmentNoted"
    agreement_id: str
    agreed_quantity: int
    amended_on: date


class Instalment(BaseModel):
    """One phase (期) of a prepayment schedule: its floor and what makes it due."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    phase: int
    triggers: tuple[str, ...]
    minimum_amount: Decimal
    basis: str


class PrepaymentScheduled(DomainEvent):
    """The prepayment schedule (医保预付) of an institution's year, computed from its profile when its agreements changed."""

    name = "PrepaymentScheduled"
    schedule_id: str
    institution_id: str
    year: int
    procurement_budget: Decimal
    profile_id: str
    profile_version: int
    instalments: tuple[Instalment, ...]


class PrepaymentDisbursed(DomainEvent):
    """The fund disbursed (拨付) prepayment of one phase to the institution."""

    name = "PrepaymentDisbursed"
    disbursement_id: str
    schedule_id: str
    institution_id: str
    year: int
    phase: int
    amount: Decimal
    disbursed_on: date
    partial: bool
    last_year_average_monthly_fund_payment: Decimal | None


class PrepaymentLiquidated(DomainEvent):
    """The year's prepayments were liquidated (清算) against the invoice amounts: to return, to top up, or settled."""

    name = "PrepaymentLiquidated"
    liquidation_id: str
    schedule_id: str
    institution_id: str
    year: int
    liquidated_on: date
    prepaid: Decimal
    invoiced: Decimal
    outcome: Literal["return", "top_up", "settled"]
    amount: Decimal


class DirectSettlementDeducted(DomainEvent):
    """The fund paid a distributor directly (直接结算) for the institution: deducted from its settlement of ``month``."""

    name = "DirectSettlementDeducted"
    institution_id: str
    payment_id: str
    distributor_id: str
    month: str
    paid_on: date
    amount: Decimal


InvoiceEvent = InvoiceRecorded | InvoicePaymentApplied | InvoiceCreditApplied | InvoiceVoidRecorded
PaymentEvent = PaymentRecorded
InstitutionSettlementEvent = (
    WithholdRecorded | WithholdLifted | SuspensionRecorded | SuspensionLifted | MonthlySettlementRecorded | MonthlySettlementReleased
    | DirectSettlementDeducted
)
ContractEvent = ContractNoted | ContractCycleMoved | AcceptanceNoted | ReturnNoted
PrepaymentEvent = AgreementNoted | AgreementAmendmentNoted | PrepaymentScheduled | PrepaymentDisbursed | PrepaymentLiquidated
SettlementEvent = InvoiceEvent | PaymentEvent | InstitutionSettlementEvent | ContractEvent | PrepaymentEvent

codec: EventCodec[SettlementEvent] = EventCodec(
    InvoiceRecorded,
    InvoicePaymentApplied,
    InvoiceCreditApplied,
    InvoiceVoidRecorded,
    PaymentRecorded,
    WithholdRecorded,
    WithholdLifted,
    SuspensionRecorded,
    SuspensionLifted,
    MonthlySettlementRecorded,
    MonthlySettlementReleased,
    DirectSettlementDeducted,
    ContractNoted,
    ContractCycleMoved,
    AcceptanceNoted,
    ReturnNoted,
    AgreementNoted,
    AgreementAmendmentNoted,
    PrepaymentScheduled,
    PrepaymentDisbursed,
    PrepaymentLiquidated,
)
