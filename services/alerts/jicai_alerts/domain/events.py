"""Domain events of the alerts service (internal; decisions are translated at the edge).

Streams: ``invoice-{invoice_id}`` (the invoice obligation), ``payment-{payment_id}``
(a payment as the settlement service recorded it) and ``clock`` (closed business days).
Every decision names the policy profile (id and version) it applied and the ids
of the events that caused it.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from jicai_alerts.domain import calendar_year as cy
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_events.domain_events import DomainEvent, EventCodec


class _Decision(DomainEvent):
    decision_id: str
    invoice_id: str
    institution_id: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


class InvoiceFacts(BaseModel):
    """An invoice the institution received (收到发票), as ``InvoiceReceived`` stated it."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    invoice_id: str
    invoice_number: str
    institution_id: str
    pooling_region_code: str
    distributor_id: str
    amount: Decimal
    issued_on: date
    received_on: date
    latest_acceptance_on: date


class PaymentDeadlineSet(_Decision, InvoiceFacts):
    """An invoice is tracked: its facts as received and its payment deadline (R1)."""

    name = "PaymentDeadlineSet"
    deadline: date
    rule: str
    warning_due_on: date
    """The day the institution is warned if the invoice is not fully paid by the day before."""


class InvoiceAwaitingCalendar(DomainEvent, InvoiceFacts):
    """An invoice received whose payment deadline needs a year the working-day calendar does not cover yet.

    The invoice is tracked (payments, credit notes and voids count against it);
    its deadline is set (``PaymentDeadlineSet``) once that year's calendar is loaded.
    """

    name = "InvoiceAwaitingCalendar"
    invoice_event_id: str
    profile_id: str
    profile_version: int
    rule: str
    waiting_for_year: int


class ClockRestartAwaitingCalendar(DomainEvent):
    """A credit note (红冲) restarts the payment clock, but the new deadline needs a year the calendar does not cover
    yet: the restart (``PaymentDeadlineSet`` of the next round) is decided once that year is loaded."""

    name = "ClockRestartAwaitingCalendar"
    invoice_id: str
    credit_note_id: str
    received_on: date
    credit_event_id: str
    last_closed: date | None
    """The last business day closed when the credit note came: whether the new deadline lay ahead of the clock."""
    waiting_for_year: int


class WithholdDateSet(DomainEvent):
    """The withhold date of a warning that waited for the calendar, once that year was loaded."""

    name = "WithholdDateSet"
    invoice_id: str
    warning_decision_id: str
    withhold_due_on: date
    calendar_source: str
    """Where the working days of the year that was missing came from."""


class PaymentApplied(DomainEvent):
    """A payment allocation (回款) was counted against the invoice."""

    name = "PaymentApplied"
    invoice_id: str
    payment_id: str
    amount: Decimal
    paid_on: date
    payment_event_id: str


class PaymentOverdueWarned(_Decision):
    """The invoice was not fully paid by its deadline: the institution is warned (预警)."""

    name = "PaymentOverdueWarned"
    deadline: date
    warned_on: date
    outstanding_amount: Decimal
    withhold_due_on: date | None  # None: no withheld settlement (R2 only warns), or its date is not computable yet
    """Settlement is withheld from this day if the invoice is not fully paid by the day before."""
    day_closed_on: date
    withhold_waits_for_year: int | None = None
    """The grace working days reach a year the working-day calendar does not cover yet: the withhold
    date is set (``WithholdDateSet``) once that year's calendar is loaded. The warning did not wait."""


class OverdueWarningResolved(_Decision):
    """The warned invoice was fully paid (or credited, voided, its clock restarted) within the grace period: the warning is closed."""

    name = "OverdueWarningResolved"
    warning_decision_id: str
    resolved_on: date
    reason: str = "paid"
    """paid | credited (a credit note left nothing owed) | voided (红冲) | clock_restarted (the credit note's new deadline lies ahead)."""


class SettlementWithheld(_Decision):
    """Still not fully paid after the grace working days: monthly settlement withheld (暂缓拨付)."""

    name = "SettlementWithheld"
    warned_on: date
    withheld_from: date
    outstanding_amount: Decimal
    day_closed_on: date


class SettlementReleased(_Decision):
    """The invoice behind a withhold was fully paid (回款后恢复拨付)."""

    name = "SettlementReleased"
    withhold_decision_id: str
    released_on: date
    reason: str = "paid"
    """paid | credited (a credit note left nothing owed) | voided (红冲)."""


class CreditApplied(DomainEvent):
    """A credit note (红字发票, partial 红冲) reduced what the invoice asks for, from ``InvoiceCredited``."""

    name = "CreditApplied"
    invoice_id: str
    credit_note_id: str
    amount: Decimal
    received_on: date
    credit_event_id: str


class VoidApplied(DomainEvent):
    """The invoice was voided (全额红冲 / 作废), from ``InvoiceVoided``: nothing is owed any more."""

    name = "VoidApplied"
    invoice_id: str
    voided_on: date
    void_event_id: str


class InvoiceShare(BaseModel):
    """The part of a payment that goes to one invoice."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    invoice_id: str
    amount: Decimal


class PaymentReceived(DomainEvent):
    """A payment recorded by the settlement service, kept until its invoices are tracked."""

    name = "PaymentReceived"
    payment_id: str
    institution_id: str
    distributor_id: str
    paid_on: date
    amount: Decimal
    shares: tuple[InvoiceShare, ...]
    payment_event_id: str


class BusinessDayClosed(DomainEvent):
    """Business day ``business_date`` has ended (a ``DayClosed`` later than any before)."""

    name = "BusinessDayClosed"
    business_date: date
    day_closed_event_id: str


ObligationEvent = (
    PaymentDeadlineSet | PaymentApplied | PaymentOverdueWarned | OverdueWarningResolved | SettlementWithheld | SettlementReleased
    | CreditApplied | VoidApplied | InvoiceAwaitingCalendar | WithholdDateSet | ClockRestartAwaitingCalendar
)
Decision = PaymentDeadlineSet | PaymentOverdueWarned | OverdueWarningResolved | SettlementWithheld | SettlementReleased
AlertsEvent = (
    ObligationEvent | PaymentReceived | BusinessDayClosed | v.VolumeEvent | n.NonWinningEvent | n.WinningProductTracked | k.KpiEvent
    | mr.ManufacturerEvent | cy.CalendarYearLoaded
)

codec: EventCodec[AlertsEvent] = EventCodec(
    PaymentDeadlineSet,
    PaymentApplied,
    PaymentOverdueWarned,
    OverdueWarningResolved,
    SettlementWithheld,
    SettlementReleased,
    PaymentReceived,
    BusinessDayClosed,
    CreditApplied,
    VoidApplied,
    InvoiceAwaitingCalendar,
    WithholdDateSet,
    ClockRestartAwaitingCalendar,
    cy.CalendarYearLoaded,
    *v.VOLUME_EVENTS,
    *n.NON_WINNING_EVENTS,
    *k.KPI_EVENTS,
    *mr.MANUFACTURER_EVENTS,
)


def decode_obligation(name: str, data: dict[str, Any]) -> ObligationEvent:
    """Decode an event of an invoice stream, which holds only obligation events."""
    event = codec.decode(name, data)
    if not isinstance(event, ObligationEvent):
        raise TypeError(f"{name} does not belong in an invoice stream")
    return event


def decode_volume(name: str, data: dict[str, Any]) -> v.VolumeEvent:
    """Decode an event of a volume stream, which holds only volume-completion events."""
    event = codec.decode(name, data)
    if not isinstance(event, VOLUME_TYPES):
        raise TypeError(f"{name} does not belong in a volume stream")
    return event


VOLUME_TYPES = v.VOLUME_EVENTS


def decode_non_winning(name: str, data: dict[str, Any]) -> n.NonWinningEvent:
    """Decode an event of a ``non-winning-{institution}`` stream (R4)."""
    event = codec.decode(name, data)
    if not isinstance(event, n.INSTITUTION_EVENTS):
        raise TypeError(f"{name} does not belong in a non-winning stream")
    return event


def decode_product(name: str, data: dict[str, Any]) -> n.WinningProductTracked:
    """Decode an event of a ``winning-product-{product}`` stream (R4)."""
    event = codec.decode(name, data)
    if not isinstance(event, n.WinningProductTracked):
        raise TypeError(f"{name} does not belong in a winning-product stream")
    return event


def decode_kpi(name: str, data: dict[str, Any]) -> k.KpiEvent:
    """Decode an event of a ``kpi-{institution}`` stream (R7)."""
    event = codec.decode(name, data)
    if not isinstance(event, k.KPI_EVENTS):
        raise TypeError(f"{name} does not belong in a kpi stream")
    return event


def decode_manufacturer(name: str, data: dict[str, Any]) -> mr.ManufacturerEvent:
    """Decode an event of a ``manufacturer-{id}`` stream (monthly reports)."""
    event = codec.decode(name, data)
    if not isinstance(event, mr.MANUFACTURER_EVENTS):
        raise TypeError(f"{name} does not belong in a manufacturer stream")
    return event
