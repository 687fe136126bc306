"""Decisions about one invoice's obligation (回款, R1 deadline, R2 warning → withhold → release), from its folded
state (``invoice_obligation``), the profile and the working-day calendar.

Each function returns the events to record; the caller records them, folds
and asks again (a later stage names the event ids of the earlier ones). Dates
come from ``jicai_policy``; a date in a year the calendar does not cover yet is
never guessed: what needs it waits (``InvoiceAwaitingCalendar``,
``withhold_waits_for_year``, ``ClockRestartAwaitingCalendar``) and
``decide_on_calendar_loaded`` takes it once the year is loaded. Credit notes and
voids (红冲) are decided in ``red_letter`` with the outcomes defined here.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TypedDict

from jicai_alerts.domain.events import (
    InvoiceAwaitingCalendar,
    ObligationEvent,
    OverdueWarningResolved,
    PaymentApplied,
    PaymentDeadlineSet,
    PaymentOverdueWarned,
    SettlementReleased,
    SettlementWithheld,
    WithholdDateSet,
)
from jicai_alerts.domain.invoice_obligation import (
    THE_DAY_BEFORE,
    ZERO,
    AwaitingCalendar,
    ClosedDay,
    InvoiceObligation,
    Payment,
    State,
    TrackInvoice,
    evolve,
)
from jicai_events.rules import Conflict
from jicai_policy import (
    CalendarYearNotCovered,
    OverduePolicy,
    PolicyProfile,
    WorkingDayCalendar,
    payment_deadline,
    warning_date,
    withhold_date,
)

# ---- decisions --------------------------------------------------------------------------


def decide_on_invoice_received(
    state: State, invoice: TrackInvoice, profile: PolicyProfile, calendar: WorkingDayCalendar
) -> list[ObligationEvent]:
    """Track the invoice and set its payment deadline under ``profile``'s term (R1).

    A deadline in a year the calendar does not cover yet is not guessed: the
    invoice is tracked as awaiting that year's calendar. The same invoice again
    records nothing; the same id with other facts is refused.
    """
    if state is not None:
        t = state.tracked if isinstance(state, InvoiceObligation) else state.invoice
        same = (t.institution_id, t.amount, t.received_on, t.latest_acceptance_on, t.distributor_id) == (
            invoice.institution_id, invoice.amount, invoice.received_on, invoice.latest_acceptance_on, invoice.distributor_id,
        )
        if same:
            return []
        raise Conflict(f"invoice {invoice.invoice_id} is tracked already with other amount, dates or parties")
    try:
        return [_deadline_set(invoice, profile, calendar)]
    except CalendarYearNotCovered as missing:
        return [_awaiting(invoice, profile, missing.year)]


def decide_on_calendar_loaded(
    state: State, profile: PolicyProfile, calendar: WorkingDayCalendar
) -> list[ObligationEvent]:
    """Set what waited for the calendar, now that ``calendar`` has more years: the deadline of an
    awaiting invoice, or the withhold date of a warning. Nothing when it still waits (for a later year)."""
    try:
        if isinstance(state, AwaitingCalendar):
            return [_deadline_set(state.facts(), profile, calendar)]
        if isinstance(state, InvoiceObligation) and state.restart_waits is not None:
            waited = state.restart_waits
            return restart_clock(state, waited.received_on, waited.credit_event_id, profile, calendar, waited.last_closed)
        if isinstance(state, InvoiceObligation) and state.waiting_for_year is not None and state.warning is not None:
            withheld_from = withhold_date(state.warning.warned_on, profile.overdue, calendar)
            source = calendar.source_of(state.waiting_for_year)
            scheduled = WithholdDateSet(
                invoice_id=state.invoice_id, warning_decision_id=state.warning.decision_id, withhold_due_on=withheld_from,
                calendar_source=source,
            )
            return [scheduled, *settle(evolve(scheduled, state, ""))]
    except CalendarYearNotCovered as missing:
        if isinstance(state, AwaitingCalendar) and missing.year != state.invoice.waiting_for_year:
            return [_awaiting(state.facts(), profile, missing.year)]
    return []


def _awaiting(invoice: TrackInvoice, profile: PolicyProfile, year: int) -> InvoiceAwaitingCalendar:
    return InvoiceAwaitingCalendar(
        **invoice.model_dump(exclude={"event_id"}), invoice_event_id=invoice.event_id, profile_id=profile.profile_id, profile_version=profile.version,
        rule=profile.payment_term.rule.value, waiting_for_year=year,
    )


def _deadline_set(invoice: TrackInvoice, profile: PolicyProfile, calendar: WorkingDayCalendar) -> PaymentDeadlineSet:
    """The payment deadline (R1) and the warning day (R2); raises ``CalendarYearNotCovered`` when they need a missing year."""
    deadline = payment_deadline(profile.payment_term, invoice.latest_acceptance_on, invoice.received_on, calendar)
    return PaymentDeadlineSet(
        **invoice.model_dump(exclude={"event_id"}),
        decision_id=f"deadline-{invoice.invoice_id}",
        profile_id=profile.profile_id,
        profile_version=profile.version,
        caused_by=(invoice.event_id,),
        deadline=deadline,
        rule=profile.payment_term.rule.value,
        warning_due_on=warning_date(deadline, profile.overdue, calendar),
    )


def decide_on_payment(state: InvoiceObligation | AwaitingCalendar, payment: Payment) -> list[ObligationEvent]:
    """Count ``payment``; once the invoice is fully paid, release a withhold or close the warning.

    While the invoice awaits the calendar the payment is only counted (by its date)."""
    applied = PaymentApplied(
        invoice_id=state.invoice_id, payment_id=payment.payment_id, amount=payment.amount,
        paid_on=payment.paid_on, payment_event_id=payment.event_id,
    )
    if isinstance(state, AwaitingCalendar):
        return [] if state.counted(payment.payment_id) else [applied]
    if any(p.payment_id == payment.payment_id for p in state.payments):
        return []
    return [applied, *settle(evolve(applied, state, ""))]


def decide_on_day_closed(
    state: InvoiceObligation, day: ClosedDay, calendar: WorkingDayCalendar, policy: OverduePolicy
) -> list[ObligationEvent]:
    """The decisions of the next stage that is due once ``day`` has closed.

    One stage per call: a withhold names the event id of its warning, known
    only once the warning is recorded. Record the result, fold it and call
    again until nothing is returned.
    """
    if state.withheld_from is not None or state.resolved_on is not None or state.voided_on is not None:
        return []
    if state.restart_waits is not None:
        return []  # the deadline in force is not known until the calendar covers the restarted one
    if state.warning is None:
        warned_on = state.current.warning_due_on
        decide_on = warned_on - THE_DAY_BEFORE
        outstanding = state.outstanding_as_of(decide_on)
        if day.business_date < decide_on or outstanding == ZERO:
            return []
        warning = PaymentOverdueWarned(
            **decision_fields(state, f"warning-{state.invoice_id}{state.round}", (state.current.caused_by[-1], day.event_id)),
            deadline=state.deadline,
            warned_on=warned_on,
            outstanding_amount=outstanding,
            **_withhold_schedule(warned_on, policy, calendar),
            day_closed_on=day.business_date,
        )
        return [warning, *settle(evolve(warning, state, ""))]
    withheld_from = state.withhold_due_on
    if withheld_from is None:
        return []  # this profile warns but never withholds, or the withhold date waits for the calendar
    decide_on = withheld_from - THE_DAY_BEFORE
    outstanding = state.outstanding_as_of(decide_on)
    if day.business_date < decide_on or outstanding == ZERO:
        return []
    if state.warning_event_id is None:
        raise ValueError("the warning must be recorded (with its event id) before deciding the withhold")
    withhold = SettlementWithheld(
        **decision_fields(state, f"withhold-{state.invoice_id}{state.round}", (state.warning_event_id, day.event_id)),
        warned_on=state.warning.warned_on,
        withheld_from=withheld_from,
        outstanding_amount=outstanding,
        day_closed_on=day.business_date,
    )
    return [withhold, *settle(evolve(withhold, state, ""))]


class _WithholdSchedule(TypedDict):
    withhold_due_on: date | None
    withhold_waits_for_year: int | None


def _withhold_schedule(warned_on: date, policy: OverduePolicy, calendar: WorkingDayCalendar) -> _WithholdSchedule:
    """The withhold date of a warning, or the year whose calendar it waits for: the warning itself never waits."""
    if not policy.withhold_enabled:
        return _WithholdSchedule(withhold_due_on=None, withhold_waits_for_year=None)
    try:
        return _WithholdSchedule(withhold_due_on=withhold_date(warned_on, policy, calendar), withhold_waits_for_year=None)
    except CalendarYearNotCovered as missing:
        return _WithholdSchedule(withhold_due_on=None, withhold_waits_for_year=missing.year)


def restart_clock(
    after: InvoiceObligation, received_on: date, credit_event_id: str, profile: PolicyProfile, calendar: WorkingDayCalendar,
    last_closed: date | None,
) -> list[ObligationEvent]:
    """The clock restarted from a credit note's receipt (红冲, ``red_letter``): a new deadline; an open warning whose new deadline lies
    ahead of the clock is closed. Raises ``CalendarYearNotCovered`` when the new dates need a missing year."""
    t = after.tracked
    deadline = payment_deadline(profile.payment_term, t.latest_acceptance_on, received_on, calendar)
    restart = PaymentDeadlineSet(
        **decision_fields(after, f"deadline-{t.invoice_id}:r{after.restarts + 2}", (after.invoice_event_id, credit_event_id)),
        **t.model_dump(include={"invoice_number", "pooling_region_code", "distributor_id", "amount", "issued_on", "latest_acceptance_on", "rule"}),
        received_on=received_on,
        deadline=deadline,
        warning_due_on=warning_date(deadline, profile.overdue, calendar),
    )
    ahead = last_closed is None or deadline > last_closed
    closed = resolve(after, (credit_event_id,), received_on, "clock_restarted") if ahead else []
    return [*closed, restart]


def settle(state: InvoiceObligation) -> Sequence[ObligationEvent]:
    """What full payment changes: a withhold is lifted, a warning within its grace period closed.

    Paid in full only after the grace period while the clock has not reached
    it yet: nothing now; that day's close withholds and releases at once.
    """
    done = state.completed_by()
    if done is None or state.warning is None:
        return []
    reason = "credited" if done.kind == "credit" else "paid"
    causes = state.payment_event_ids()
    if state.withheld_from is not None:
        return release(state, causes, done.paid_on, reason)
    if state.waiting_for_year is not None:
        return []  # whether it came within the grace period (or a new round) is known once the calendar covers it
    grace_ends = state.withhold_due_on
    if grace_ends is None or done.paid_on <= grace_ends - THE_DAY_BEFORE:
        return resolve(state, causes, done.paid_on, reason)
    return []


def release(state: InvoiceObligation, causes: tuple[str, ...], on: date, reason: str) -> list[ObligationEvent]:
    """Lift the withhold (回款后恢复拨付), once."""
    if state.released_on is not None:
        return []
    return [
        SettlementReleased(
            **decision_fields(state, f"release-{state.invoice_id}{state.round}", causes),
            withhold_decision_id=f"withhold-{state.invoice_id}{state.round}",
            released_on=on,
            reason=reason,
        )
    ]


def resolve(state: InvoiceObligation, causes: tuple[str, ...], on: date, reason: str) -> list[ObligationEvent]:
    """Close the open warning (not yet escalated to a withhold), once."""
    if state.warning is None or state.resolved_on is not None or state.withheld_from is not None:
        return []
    return [
        OverdueWarningResolved(
            **decision_fields(state, f"resolution-{state.invoice_id}{state.round}", causes),
            warning_decision_id=state.warning.decision_id,
            resolved_on=on,
            reason=reason,
        )
    ]


class DecisionFields(TypedDict):
    decision_id: str
    invoice_id: str
    institution_id: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


def decision_fields(state: InvoiceObligation, decision_id: str, caused_by: tuple[str, ...]) -> DecisionFields:
    """What every decision about this invoice names: itself, the invoice, the profile, its causes."""
    t = state.tracked
    return DecisionFields(
        decision_id=decision_id,
        invoice_id=t.invoice_id,
        institution_id=t.institution_id,
        profile_id=t.profile_id,
        profile_version=t.profile_version,
        caused_by=caused_by,
    )
