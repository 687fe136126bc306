"""An institution's obligations and status as of a past date, from the event log alone.

"As of D" counts every event recorded up to now whose business date is on or before
D: an invoice from the day it was received, a payment from the day it was paid, a
warning from the day it was given, a withhold or a suspension from the day it takes
effect, their ending (resolution, release, resumption) from the day it takes effect.
Decisions are taken when the clock (``DayClosed``) passes their day, so for a D after
the last closed day the answer shows only what is decided so far. Events whose kind
this module does not know (added later) count from the date the store recorded them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from jicai_alerts.domain import events as e
from jicai_alerts.domain import volume_events as v

ZERO = Decimal("0.00")


BUSINESS_DATE: dict[type, str] = {
    e.PaymentDeadlineSet: "received_on",
    e.InvoiceAwaitingCalendar: "received_on",
    e.PaymentApplied: "paid_on",
    e.PaymentOverdueWarned: "warned_on",
    e.OverdueWarningResolved: "resolved_on",
    e.SettlementWithheld: "withheld_from",
    e.SettlementReleased: "released_on",
    v.VolumeCompletionWarned: "period_end",
    v.SettlementSuspended: "suspended_from",
    v.SettlementResumed: "resumed_on",
    v.PeriodEvaluated: "period_end",
}
"""The field giving the day from which each kind of event holds."""


def business_date(event: object, recorded_on: date) -> date:
    """The day from which ``event`` holds (the day it was recorded for kinds not listed)."""
    attribute = BUSINESS_DATE.get(type(event))
    return getattr(event, attribute) if attribute else recorded_on  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Dated:
    event: object
    event_id: str
    recorded_on: date

    @property
    def on(self) -> date:
        return business_date(self.event, self.recorded_on)


@dataclass(frozen=True)
class InvoiceOwed:
    invoice_id: str
    invoice_number: str
    received_on: date
    deadline: date | None
    """None while it waits for the working-day calendar of its year."""
    amount: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: bool
    """Not fully paid after its deadline."""


@dataclass(frozen=True)
class OpenDecision:
    decision_id: str
    kind: str
    """payment_overdue_warning | settlement_withheld | volume_warning | settlement_suspended"""
    since: date
    invoice_id: str | None = None
    period_end: date | None = None
    outstanding_amount: Decimal | None = None
    ratio: Decimal | None = None
    profile_id: str = ""
    profile_version: int = 0


@dataclass(frozen=True)
class Status:
    as_of: date
    invoices: list[InvoiceOwed] = field(default_factory=list)
    warnings: list[OpenDecision] = field(default_factory=list)
    withholds: list[OpenDecision] = field(default_factory=list)
    suspensions: list[OpenDecision] = field(default_factory=list)

    @property
    def outstanding(self) -> Decimal:
        return sum((i.outstanding for i in self.invoices), ZERO)


def status(as_of: date, invoice_streams: Iterable[list[Dated]], volume_stream: list[Dated]) -> Status:
    """The status as of ``as_of``: the events of each invoice stream and of the volume stream dated by then."""
    result = Status(as_of)
    for stream in invoice_streams:
        _invoice(as_of, [d for d in stream if d.on <= as_of], result)
    _volume(as_of, [d for d in volume_stream if d.on <= as_of], result)
    for items in (result.warnings, result.withholds, result.suspensions):
        items.sort(key=lambda x: (x.since, x.decision_id))
    result.invoices.sort(key=lambda i: (i.deadline, i.invoice_id))
    return result


def _invoice(as_of: date, known: list[Dated], result: Status) -> None:
    tracked = next((d.event for d in known if isinstance(d.event, e.PaymentDeadlineSet | e.InvoiceAwaitingCalendar)), None)
    if tracked is None:
        return
    # a deadline set once its year's calendar was loaded holds from the invoice's receipt, as if known from the start
    deadline = next((d.event.deadline for d in known if isinstance(d.event, e.PaymentDeadlineSet)), None)
    paid = sum((d.event.amount for d in known if isinstance(d.event, e.PaymentApplied)), ZERO)
    outstanding = max(ZERO, tracked.amount - paid)
    if outstanding > ZERO:
        result.invoices.append(
            InvoiceOwed(
                invoice_id=tracked.invoice_id, invoice_number=tracked.invoice_number, received_on=tracked.received_on,
                deadline=deadline, amount=tracked.amount, paid=paid, outstanding=outstanding,
                overdue=deadline is not None and as_of > deadline,
            )
        )
    ended = {x.event.warning_decision_id for x in known if isinstance(x.event, e.OverdueWarningResolved)}
    released = {x.event.withhold_decision_id for x in known if isinstance(x.event, e.SettlementReleased)}
    for d in known:
        x = d.event
        if isinstance(x, e.PaymentOverdueWarned) and x.decision_id not in ended and not released:
            result.warnings.append(OpenDecision(
                x.decision_id, "payment_overdue_warning", x.warned_on, invoice_id=x.invoice_id, outstanding_amount=outstanding,
                profile_id=x.profile_id, profile_version=x.profile_version,
            ))
        elif isinstance(x, e.SettlementWithheld) and x.decision_id not in released:
            result.withholds.append(OpenDecision(
                x.decision_id, "settlement_withheld", x.withheld_from, invoice_id=x.invoice_id, outstanding_amount=outstanding,
                profile_id=x.profile_id, profile_version=x.profile_version,
            ))


def _volume(as_of: date, known: list[Dated], result: Status) -> None:
    evaluated = [d.event for d in known if isinstance(d.event, v.PeriodEvaluated)]
    last_period = max((x.period_end for x in evaluated), default=None)
    resumed = {d.event.suspension_decision_id for d in known if isinstance(d.event, v.SettlementResumed)}
    for d in known:
        x = d.event
        if isinstance(x, v.VolumeCompletionWarned) and x.period_end == last_period:  # a later period evaluated supersedes it
            result.warnings.append(OpenDecision(
                x.decision_id, "volume_warning", x.period_end, period_end=x.period_end, ratio=x.ratio,
                profile_id=x.profile_id, profile_version=x.profile_version,
            ))
        elif isinstance(x, v.SettlementSuspended) and x.decision_id not in resumed:
            result.suspensions.append(OpenDecision(
                x.decision_id, "settlement_suspended", x.suspended_from, period_end=x.period_end, ratio=x.ratio,
                profile_id=x.profile_id, profile_version=x.profile_version,
            ))
