"""An institution's obligations and status as of a past date, from the event log alone.

One fold per stream, many projections: "as of D" folds each stream with the same
``fold`` the live view uses (``invoice_obligation.fold``, ``volume_state.fold``),
over the events recorded up to now whose business date is on or before D, and reads
the answer off the folded state. An invoice counts from the day it was received, a
payment from the day it was paid, a credit note (红字发票) from its receipt and a void
(红冲作废) from the day it was voided, a deadline restarted by a credit note from that
credit note's receipt, a warning from the day it was given, a withhold or a suspension
from the day it takes effect, their ending (resolution, release, resumption) from the
day it takes effect. Decisions are taken when the clock (``DayClosed``) passes their
day, so for a D after the last closed day the answer shows only what is decided so
far. Events whose kind this module does not know (added later) count from the date
the store recorded them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Generic, Literal, TypeVar

from jicai_alerts.domain import events as e
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain import volume_state as vs

ZERO = Decimal("0.00")

OpenKind = Literal["payment_overdue_warning", "settlement_withheld", "volume_warning", "settlement_suspended"]


BUSINESS_DATE: dict[type, str] = {
    e.PaymentDeadlineSet: "received_on",  # the invoice's receipt, or the credit note's for a restarted deadline
    e.InvoiceAwaitingCalendar: "received_on",
    e.PaymentApplied: "paid_on",
    e.CreditApplied: "received_on",
    e.VoidApplied: "voided_on",
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
    return getattr(event, attribute) if attribute else recorded_on


E = TypeVar("E", bound=e.ObligationEvent | v.VolumeEvent)


@dataclass(frozen=True)
class Dated(Generic[E]):
    event: E
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
    """The deadline in force on the date (restarted by a credit note where the profile says so); None while it
    waits for the working-day calendar of its year."""
    amount: Decimal
    paid: Decimal
    credited: Decimal
    """Credit notes (红冲) received on or before the date."""
    outstanding: Decimal
    overdue: bool
    """Not fully paid after its deadline."""


@dataclass(frozen=True)
class OpenDecision:
    decision_id: str
    kind: OpenKind
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


def status(
    as_of: date, institution_id: str, invoice_streams: Iterable[list[Dated[e.ObligationEvent]]], volume_stream: list[Dated[v.VolumeEvent]]
) -> Status:
    """The status as of ``as_of``: each invoice stream and the volume stream folded over their events dated by then."""
    result = Status(as_of)
    for stream in invoice_streams:
        if stream and stream[0].on <= as_of:  # the stream starts with the invoice's receipt: none yet, nothing owed
            _invoice(as_of, [d for d in stream if d.on <= as_of], result)
    _volume(institution_id, [d for d in volume_stream if d.on <= as_of], result)
    for items in (result.warnings, result.withholds, result.suspensions):
        items.sort(key=lambda x: (x.since, x.decision_id))
    result.invoices.sort(key=lambda i: (i.deadline or date.max, i.invoice_id))  # waiting for the calendar: last
    return result


def _invoice(as_of: date, known: list[Dated[e.ObligationEvent]], result: Status) -> None:
    state = io.fold((d.event, d.event_id) for d in known)
    if state is None:
        return
    outstanding = state.outstanding
    if isinstance(state, io.AwaitingCalendar):  # owed, with no deadline until its year's calendar is loaded
        if outstanding > ZERO:
            waiting = state.invoice
            result.invoices.append(
                InvoiceOwed(
                    invoice_id=waiting.invoice_id, invoice_number=waiting.invoice_number, received_on=waiting.received_on, deadline=None,
                    amount=waiting.amount, paid=state.paid, credited=state.credited, outstanding=outstanding, overdue=False,
                )
            )
        return
    if outstanding > ZERO:
        result.invoices.append(
            InvoiceOwed(
                invoice_id=state.invoice_id, invoice_number=state.tracked.invoice_number, received_on=state.tracked.received_on,
                deadline=state.deadline, amount=state.amount, paid=state.paid, credited=state.credited, outstanding=outstanding,
                overdue=as_of > state.deadline,
            )
        )
    warning = state.warning
    if warning is not None and state.resolved_on is None and state.released_on is None:
        result.warnings.append(OpenDecision(
            warning.decision_id, "payment_overdue_warning", warning.warned_on, invoice_id=warning.invoice_id,
            outstanding_amount=outstanding, profile_id=warning.profile_id, profile_version=warning.profile_version,
        ))
    if state.withheld_from is not None and state.released_on is None:
        # The fold keeps the day a withhold took effect, not its event; an invoice is withheld at most once.
        withhold = next(d.event for d in known if isinstance(d.event, e.SettlementWithheld))
        result.withholds.append(OpenDecision(
            withhold.decision_id, "settlement_withheld", withhold.withheld_from, invoice_id=withhold.invoice_id,
            outstanding_amount=outstanding, profile_id=withhold.profile_id, profile_version=withhold.profile_version,
        ))


def _volume(institution_id: str, known: list[Dated[v.VolumeEvent]], result: Status) -> None:
    state = vs.fold(institution_id, ((d.event, d.event_id) for d in known))
    last = state.last_evaluation
    for x in state.decisions:
        if isinstance(x, v.VolumeCompletionWarned) and last is not None and x.period_end == last.event.period_end:
            # a later period evaluated supersedes it
            result.warnings.append(OpenDecision(
                x.decision_id, "volume_warning", x.period_end, period_end=x.period_end, ratio=x.ratio,
                profile_id=x.profile_id, profile_version=x.profile_version,
            ))
    if state.suspension is not None:
        x = state.suspension.event
        result.suspensions.append(OpenDecision(
            x.decision_id, "settlement_suspended", x.suspended_from, period_end=x.period_end, ratio=x.ratio,
            profile_id=x.profile_id, profile_version=x.profile_version,
        ))
