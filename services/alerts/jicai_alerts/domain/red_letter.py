"""Credit notes and voids (红冲) of an invoice the alerts service tracks: how they change its obligation (回款).

红冲 (R1: "a credit note / voided invoice removes or reduces what is owed"): a
credit note counts like a payment dated the day it was received; one that
leaves nothing owed closes the obligation as full payment would (reason
``credited``). Where the profile says so (``credit_note_restarts_clock``) a
credit that leaves something owed restarts the clock: the deadline is counted
again from the credit note's receipt (a new ``PaymentDeadlineSet``), an open
warning whose new deadline still lies ahead is closed and the decisions of the
new round carry its number (``:r2``…). A withhold stands until nothing is owed.
A void closes the obligation (reason ``voided``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from jicai_alerts.domain.events import ClockRestartAwaitingCalendar, CreditApplied, ObligationEvent, VoidApplied
from jicai_alerts.domain.invoice_decisions import release, resolve, restart_clock, settle
from jicai_alerts.domain.invoice_obligation import ZERO, AwaitingCalendar, InvoiceObligation, evolve
from jicai_policy import CalendarYearNotCovered, PolicyProfile, WorkingDayCalendar


@dataclass(frozen=True)
class Credit:
    """A credit note (红字发票), from ``InvoiceCredited``."""

    invoice_id: str
    credit_note_id: str
    amount: Decimal
    received_on: date
    event_id: str


@dataclass(frozen=True)
class Void:
    """A voided invoice (全额红冲), from ``InvoiceVoided``."""

    invoice_id: str
    voided_on: date
    event_id: str


def decide_on_credit(
    state: InvoiceObligation | AwaitingCalendar, credit: Credit, profile: PolicyProfile, calendar: WorkingDayCalendar,
    last_closed: date | None,
) -> list[ObligationEvent]:
    """Count a credit note (红冲); nothing left owed closes the obligation, else the profile may restart the clock.

    While the invoice awaits the calendar the credit is only counted (by its date, like a payment).
    """
    applied = CreditApplied(
        invoice_id=state.invoice_id, credit_note_id=credit.credit_note_id, amount=credit.amount,
        received_on=credit.received_on, credit_event_id=credit.event_id,
    )
    if isinstance(state, AwaitingCalendar):
        return [] if state.counted(f"credit:{credit.credit_note_id}") or state.voided_on is not None else [applied]
    if state.voided_on is not None or any(p.payment_id == f"credit:{credit.credit_note_id}" for p in state.payments):
        return []
    after = evolve(applied, state, "")
    if after.outstanding == ZERO or not profile.payment_term.credit_note_restarts_clock or after.withheld_from is not None:
        return [applied, *settle(after)]
    try:
        return [applied, *restart_clock(after, credit.received_on, credit.event_id, profile, calendar, last_closed)]
    except CalendarYearNotCovered as missing:
        waits = ClockRestartAwaitingCalendar(
            invoice_id=state.invoice_id, credit_note_id=credit.credit_note_id, received_on=credit.received_on,
            credit_event_id=credit.event_id, last_closed=last_closed, waiting_for_year=missing.year,
        )
        return [applied, waits]


def decide_on_void(state: InvoiceObligation | AwaitingCalendar, void: Void) -> list[ObligationEvent]:
    """The invoice is voided (全额红冲): nothing is owed; a withhold it caused is lifted, an open warning closed."""
    if state.voided_on is not None:
        return []
    applied = VoidApplied(invoice_id=state.invoice_id, voided_on=void.voided_on, void_event_id=void.event_id)
    if isinstance(state, AwaitingCalendar):
        return [applied]
    causes = (void.event_id,)
    if state.withheld_from is not None:
        return [applied, *release(state, causes, void.voided_on, "voided")]
    return [applied, *resolve(state, causes, void.voided_on, "voided")]
