"""Domain events of one institution's volume completion (R3), stream ``volume-{institution_id}``.

Internal to the alerts service; decisions and exemptions are translated at the edge.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from jicai_events.domain_events import DomainEvent


class ContractTracked(DomainEvent):
    """A volume contract (``ContractSigned``) counted towards the institution's targets."""

    name = "VolumeContractTracked"
    contract_id: str
    institution_id: str
    pooling_region_code: str
    product_id: str
    unit_price: Decimal
    agreed_quantity: int
    cycle_start: date
    cycle_end: date
    contract_event_id: str


class AcceptanceCounted(DomainEvent):
    """An accepted delivery (``DeliveryAccepted``) counted on its ``accepted_on`` date."""

    name = "VolumeAcceptanceCounted"
    acceptance_id: str
    institution_id: str
    contract_id: str
    quantity: int
    accepted_on: date
    acceptance_event_id: str


class AgreementTracked(DomainEvent):
    """A yearly agreement (年度采购协议: ``YearlyAgreementSigned``, or ``YearlyAgreementRolledOver`` for later years):
    the agreed volume (约定采购量) of one agreement year of a contract."""

    name = "VolumeAgreementTracked"
    agreement_id: str
    contract_id: str
    institution_id: str
    pooling_region_code: str
    product_id: str
    agreement_year: int
    year_start: date
    year_end: date
    agreed_quantity: int
    unit_price: Decimal
    agreement_event_id: str
    rolled_over: bool = False
    """From ``YearlyAgreementRolledOver`` (else ``YearlyAgreementSigned``)."""


class AgreementAmended(DomainEvent):
    """The agreed volume of a yearly agreement was changed (``YearlyAgreementAmended``), from ``amended_on`` on."""

    name = "VolumeAgreementAmended"
    agreement_id: str
    contract_id: str
    institution_id: str
    agreed_quantity: int
    previous_agreed_quantity: int
    amended_on: date
    amendment_event_id: str


class ReturnCounted(DomainEvent):
    """Accepted goods returned (退货, ``DeliveryReturned``): no longer counted from ``returned_on`` on."""

    name = "VolumeReturnCounted"
    return_id: str
    institution_id: str
    contract_id: str
    acceptance_id: str
    quantity: int
    returned_on: date
    return_event_id: str


class ContractCompletion(BaseModel):
    """One contract at a period end: cumulative target and accepted quantity, its capped ratio and weight."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    contract_id: str
    product_id: str
    target_quantity: Decimal
    accepted_quantity: int
    target_amount: Decimal
    accepted_amount: Decimal
    ratio: Decimal
    weight: Decimal
    agreement_id: str | None = None
    """The yearly agreement whose agreed volume gave the target (none: the contract's, for streams before agreements)."""
    counted_from: date | None = None
    """Acceptances count from this day (the agreement year's start; none: every acceptance of the contract)."""
    agreed_quantity: int | None = None
    """The agreed volume in force at the period end (after amendments)."""


class PeriodEvaluated(DomainEvent):
    """A period end of the institution was evaluated (with or without decisions)."""

    name = "VolumePeriodEvaluated"
    institution_id: str
    period_end: date
    ratio: Decimal
    contracts: tuple[ContractCompletion, ...]
    profile_id: str | None
    profile_version: int | None
    exemption_id: str | None
    """The exemption covering the period end (no decision then)."""
    day_closed_event_id: str


class _VolumeDecision(DomainEvent):
    decision_id: str
    institution_id: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]
    period_end: date
    ratio: Decimal


class VolumeCompletionWarned(_VolumeDecision):
    name = "VolumeCompletionWarned"
    warning_below: Decimal


class SettlementSuspended(_VolumeDecision):
    name = "VolumeSettlementSuspended"
    suspend_below: Decimal
    suspended_from: date


class SettlementResumed(_VolumeDecision):
    name = "VolumeSettlementResumed"
    suspension_decision_id: str
    resumed_on: date
    reason: str


class VolumeExemptionGranted(DomainEvent):
    name = "VolumeExemptionGranted"
    exemption_id: str
    institution_id: str
    reason: str
    from_date: date
    to_date: date
    granted_by: str


class VolumeExemptionRevoked(DomainEvent):
    name = "VolumeExemptionRevoked"
    exemption_id: str
    institution_id: str
    reason: str
    revoked_by: str


VolumeDecision = VolumeCompletionWarned | SettlementSuspended | SettlementResumed
VolumeEvent = (
    ContractTracked | AgreementTracked | AgreementAmended | AcceptanceCounted | ReturnCounted | PeriodEvaluated | VolumeDecision
    | VolumeExemptionGranted | VolumeExemptionRevoked
)
VOLUME_EVENTS: tuple[type[VolumeEvent], ...] = (
    ContractTracked, AgreementTracked, AgreementAmended, AcceptanceCounted, ReturnCounted, PeriodEvaluated,
    VolumeCompletionWarned, SettlementSuspended, SettlementResumed,
    VolumeExemptionGranted, VolumeExemptionRevoked,
)
