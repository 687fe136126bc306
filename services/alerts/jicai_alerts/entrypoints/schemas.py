"""Response bodies of the alerts API (it has no writes: decisions come from events)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from jicai_alerts.domain.alert_kinds import DecisionKind
from jicai_events.types import Money
from jicai_policy.sections.payment import PaymentTermRule


class InvoiceOut(BaseModel):
    """An invoice's obligation to be paid and where it stands under R1/R2."""

    invoice_id: str
    invoice_number: str
    institution_id: str
    distributor_id: str
    pooling_region_code: str
    amount: Money
    paid: Money
    credited: Money = Field(description="Σ credit notes (红冲) counted against it")
    outstanding: Money
    received_on: date
    latest_acceptance_on: date
    deadline: date | None = Field(description="回款期限: paying in full on this day is on time; null while waiting for the calendar")
    rule: PaymentTermRule = Field(description="the payment-term rule (R1) of the profile")
    profile_id: str
    profile_version: int
    status: Literal["open", "paid", "overdue", "withheld", "released", "credited", "voided", "waiting_for_calendar"]
    warned_on: date | None
    resolved_on: date | None = Field(description="the warning closed by full payment within the grace period")
    withheld_from: date | None
    released_on: date | None
    voided_on: date | None = Field(description="voided in full (全额红冲): nothing owed")
    next_decision_on: date | None = Field(description="the business day whose close may bring the next decision")
    waiting_for_calendar_year: int | None = Field(
        default=None,
        description="the year whose working-day calendar the next decision (deadline or withhold date) waits for: contracts' PUT /calendars/{year} loads it",
    )


class PaymentOut(BaseModel):
    payment_id: str
    amount: Money
    paid_on: date
    payment_event_id: str


class InvoiceDetail(InvoiceOut):
    payments: list[PaymentOut]
    decisions: list[str] = Field(description="ids of the decisions about this invoice; explain with GET /decisions/{id}")


class BlockedDecisionOut(BaseModel):
    """A decision the rules could not take yet: retried at every day close, or taken when the calendar it waits for is loaded."""

    invoice_id: str
    institution_id: str
    first_blocked_on: date = Field(description="the business day whose close first failed, or the day the invoice was received or warned")
    last_tried_on: date
    reason: str
    waiting_for_calendar_year: int | None = Field(default=None, description="the working-day calendar year it waits for (PUT /calendars/{year})")


class EventOut(BaseModel):
    id: str = Field(description="the event id (the CloudEvents id when published)")
    type: str = Field(description="the CloudEvents type when published, else the internal event name")
    recorded_at: datetime | None = None


class CauseOut(BaseModel):
    id: str
    type: str
    subject: str
    date: date


class DecisionOut(BaseModel):
    """Why: the decision event, the profile and rule parameters it applied, and its causes."""

    decision_id: str
    kind: DecisionKind
    invoice_id: str | None = Field(description="R1/R2: the invoice; null for R3 and R4 decisions")
    institution_id: str | None = Field(description="the institution decided about; null for a manufacturer's missing report")
    manufacturer_id: str | None = Field(default=None, description="the manufacturer whose monthly report is missing (Hubei 003 §五(二))")
    effective_on: date
    decision: dict[str, Any] = Field(description="the decision as published (or as recorded, when it stays inside)")
    event: EventOut
    profile: dict[str, Any] = Field(description="the policy profile applied: id, version, title, source notice")
    parameters: dict[str, Any] = Field(
        description="the profile's rule parameters: payment_term (R1) and overdue (R2), volume_completion (R3) or non_winning_cap (R4)"
    )
    calendar: dict[str, str] = Field(description="source of the working-day calendar per year involved")
    evaluation: dict[str, Any] | None = Field(
        default=None,
        description=(
            "R3: the period evaluated (ratio, per contract: target and accepted quantities, agreement and agreed volume, ratio, weight) "
            "and the exemptions considered; R4: the month's group (winning and non-winning base units, ratio, purchases counted)"
        ),
    )
    causes: list[CauseOut]
