"""One invoice's obligation to be paid (回款): deadline (R1), warning, withhold and release (R2).

Guizhou 000 §五(三): pay within the profile's term from the later of acceptance
and invoice receipt; "逾期不回款的给予预警，预警后10个工作日内仍不回款的，暂缓拨付
定点医疗机构医保费用，回款后恢复拨付". Every date comes from ``jicai_policy`` and
the profile; this module only decides *whether* a rule fires, from the payments
known with their dates and the business day that has closed.

A decision for day X (warning on X, withhold from X) is taken when day X-1 has
closed, from the payments made up to X-1. So one late ``DayClosed`` yields the
same decisions as closing every day one by one, and a payment recorded before
the clock caught up counts by its date, not by when it arrived.

红冲 (R1: "a credit note / voided invoice removes or reduces what is owed"): a
credit note counts like a payment dated the day it was received; one that
leaves nothing owed closes the obligation as full payment would (reason
``credited``). Where the profile says so (``credit_note_restarts_clock``) a
credit that leaves something owed restarts the clock: the deadline is counted
again from the credit note's receipt (a new ``PaymentDeadlineSet``), an open
warning whose new deadline still lies ahead is closed and the decisions of the
new round carry its number (``:r2``…). A withhold stands until nothing is owed.
A void closes the obligation (reason ``voided``).

A decision is taken as soon as the dates it needs are known. The working-day
calendar covers the years the State Council has published; an invoice whose
deadline needs a year not covered yet is tracked as awaiting the calendar
(``InvoiceAwaitingCalendar``) and a warning whose grace working days reach such
a year is published without its withhold date (``withhold_waits_for_year``).
Loading that year (``decide_on_calendar_loaded``) sets what waited; the day
closes already passed then decide it as of its own dates.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import singledispatch
from typing import TypedDict

from jicai_alerts.domain.events import (
    CreditApplied,
    InvoiceAwaitingCalendar,
    InvoiceFacts,
    ObligationEvent,
    OverdueWarningResolved,
    PaymentApplied,
    PaymentDeadlineSet,
    PaymentOverdueWarned,
    SettlementReleased,
    SettlementWithheld,
    VoidApplied,
    WithholdDateSet,
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

THE_DAY_BEFORE = timedelta(days=1)
ZERO = Decimal("0.00")

Recorded = tuple[ObligationEvent, str]
"""A recorded event of the stream with its event id."""


class Status(StrEnum):
    OPEN = "open"
    PAID = "paid"
    OVERDUE = "overdue"
    WITHHELD = "withheld"
    RELEASED = "released"
    CREDITED = "credited"
    VOIDED = "voided"
    WAITING_FOR_CALENDAR = "waiting_for_calendar"
    """Tracked, but its deadline needs a year the working-day calendar does not cover yet."""


class TrackInvoice(InvoiceFacts):
    """An invoice the institution received (收到发票), from ``InvoiceReceived`` (its envelope id)."""

    event_id: str


@dataclass(frozen=True)
class Payment:
    """A payment's allocation to this invoice, or a credit note (kind ``credit``) counted the same way."""

    payment_id: str
    amount: Decimal
    paid_on: date
    event_id: str
    kind: str = "payment"


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


@dataclass(frozen=True)
class ClosedDay:
    """A ``DayClosed``: the business day that has ended and the id of the event that said so."""

    business_date: date
    event_id: str


@dataclass(frozen=True)
class InvoiceObligation:
    """State folded from the invoice stream."""

    tracked: PaymentDeadlineSet
    payments: tuple[Payment, ...] = ()
    warning: PaymentOverdueWarned | None = None
    warning_event_id: str | None = None
    resolved_on: date | None = None
    withheld_from: date | None = None
    released_on: date | None = None
    restart: PaymentDeadlineSet | None = None
    """The latest deadline restarted by a credit note (红冲), if any."""
    restarts: int = 0
    voided_on: date | None = None
    withhold_set: date | None = None
    """The withhold date set once the calendar of a year the warning waited for was loaded."""

    @property
    def current(self) -> PaymentDeadlineSet:
        """The deadline in force: the latest restart, or the one set on receipt."""
        return self.restart or self.tracked

    @property
    def round(self) -> str:
        """Suffix of the decision ids of the current round: '' at first, ':r2', ':r3'… after each restart."""
        return f":r{self.restarts + 1}" if self.restarts else ""

    @property
    def invoice_id(self) -> str:
        return self.tracked.invoice_id

    @property
    def profile_ref(self) -> tuple[str, int]:
        """The profile (id, version) the invoice was tracked under."""
        return self.tracked.profile_id, self.tracked.profile_version

    @property
    def invoice_event_id(self) -> str:
        """The ``InvoiceReceived`` that started tracking."""
        return self.tracked.caused_by[0]

    @property
    def amount(self) -> Decimal:
        return self.tracked.amount

    @property
    def deadline(self) -> date:
        return self.current.deadline

    @property
    def warned_on(self) -> date | None:
        return self.warning.warned_on if self.warning else None

    @property
    def withhold_due_on(self) -> date | None:
        """The first day of the withhold if still unpaid; None without a warning, without withholding, or while it waits."""
        return self.withhold_set or (self.warning.withhold_due_on if self.warning else None)

    @property
    def withhold_waits_for_year(self) -> int | None:
        """The year whose calendar the withhold date still needs, while it matters (nothing resolved, voided or decided)."""
        if self.warning is None or self.withhold_set is not None or self.resolved_on is not None or self.voided_on is not None:
            return None
        return self.warning.withhold_waits_for_year

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.kind == "payment"), ZERO)

    @property
    def credited(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.kind == "credit"), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return ZERO if self.voided_on else max(self.amount - self.paid - self.credited, ZERO)

    def outstanding_as_of(self, day: date) -> Decimal:
        """What was still owed at the end of ``day``, counting payments and credit notes by their date."""
        if self.voided_on is not None and self.voided_on <= day:
            return ZERO
        return max(self.amount - sum((p.amount for p in self.payments if p.paid_on <= day), ZERO), ZERO)

    def completed_by(self) -> Payment | None:
        """The payment or credit note that left nothing owed, if nothing is."""
        total = ZERO
        for p in sorted(self.payments, key=lambda p: (p.paid_on, p.payment_id)):
            total += p.amount
            if total >= self.amount:
                return p
        return None

    def paid_in_full_on(self) -> date | None:
        """The date of the payment (or credit note) that completed the invoice, if it is fully paid."""
        done = self.completed_by()
        return done.paid_on if done else None

    def payment_event_ids(self) -> tuple[str, ...]:
        ordered = sorted(self.payments, key=lambda p: (p.paid_on, p.payment_id))
        return tuple(dict.fromkeys(p.event_id for p in ordered))


# ---- fold -------------------------------------------------------------------------------


@singledispatch
def _evolve(event: object, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    raise TypeError(f"not an invoice obligation event: {type(event).__name__}")


@_evolve.register
def _(event: PaymentApplied, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    payment = Payment(event.payment_id, event.amount, event.paid_on, event.payment_event_id)
    return replace(state, payments=(*state.payments, payment))


@_evolve.register
def _(event: CreditApplied, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    credit = Payment(f"credit:{event.credit_note_id}", event.amount, event.received_on, event.credit_event_id, "credit")
    return replace(state, payments=(*state.payments, credit))


@_evolve.register
def _(event: VoidApplied, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, voided_on=event.voided_on)


@_evolve.register
def _(event: PaymentDeadlineSet, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    """A restart (红冲): a closed or absent warning makes room for the new round's; an open warning or a withhold stands."""
    if state.withheld_from is None and (state.warning is None or state.resolved_on is not None):
        return replace(state, restart=event, restarts=state.restarts + 1, warning=None, warning_event_id=None, resolved_on=None)
    return replace(state, restart=event, restarts=state.restarts + 1)


@_evolve.register
def _(event: PaymentOverdueWarned, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, warning=event, warning_event_id=event_id)


@_evolve.register
def _(event: OverdueWarningResolved, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, resolved_on=event.resolved_on)


@_evolve.register
def _(event: SettlementWithheld, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, withheld_from=event.withheld_from)


@_evolve.register
def _(event: SettlementReleased, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, released_on=event.released_on)


@_evolve.register
def _(event: WithholdDateSet, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, withhold_set=event.withhold_due_on)


@dataclass(frozen=True)
class AwaitingCalendar:
    """An invoice tracked whose deadline needs a year the calendar does not cover yet."""

    invoice: InvoiceAwaitingCalendar
    early: tuple[Recorded, ...] = ()
    """Credit notes and voids counted while it waited; they apply once the deadline is set."""

    @property
    def invoice_id(self) -> str:
        return self.invoice.invoice_id

    @property
    def profile_ref(self) -> tuple[str, int]:
        return self.invoice.profile_id, self.invoice.profile_version

    @property
    def voided_on(self) -> date | None:
        return next((e.voided_on for e, _ in self.early if isinstance(e, VoidApplied)), None)

    @property
    def credited(self) -> Decimal:
        return sum((e.amount for e, _ in self.early if isinstance(e, CreditApplied)), ZERO)

    def facts(self) -> TrackInvoice:
        return TrackInvoice(**self.invoice.model_dump(include=set(InvoiceFacts.model_fields)), event_id=self.invoice.invoice_event_id)


State = InvoiceObligation | AwaitingCalendar | None


def fold(recorded: Iterable[Recorded]) -> State:
    """The obligation after its recorded events (``None`` before the invoice is tracked)."""
    state: State = None
    for event, event_id in recorded:
        if isinstance(state, InvoiceObligation):
            state = _evolve(event, state, event_id)
        elif isinstance(event, InvoiceAwaitingCalendar):
            state = AwaitingCalendar(event, state.early if state is not None else ())
        elif isinstance(event, PaymentDeadlineSet):
            early = state.early if state is not None else ()
            state = InvoiceObligation(tracked=event)
            for waited, waited_id in early:
                state = _evolve(waited, state, waited_id)
        elif isinstance(state, AwaitingCalendar) and isinstance(event, CreditApplied | VoidApplied):
            state = replace(state, early=(*state.early, (event, event_id)))
        else:
            raise ValueError(f"{event.name} before the invoice was tracked")
    return state


# ---- queries for the read model ---------------------------------------------------------


def status(state: InvoiceObligation) -> Status:
    if state.voided_on is not None:
        return Status.VOIDED
    if state.released_on is not None:
        return Status.RELEASED
    if state.withheld_from is not None:
        return Status.WITHHELD
    if state.warning is not None and state.resolved_on is None:
        return Status.OVERDUE
    if state.outstanding > ZERO:
        return Status.OPEN
    done = state.completed_by()
    return Status.CREDITED if done is not None and done.kind == "credit" else Status.PAID


def next_decision_on(state: InvoiceObligation) -> date | None:
    """The business day whose close may bring the next decision; ``None`` when none can come."""
    if state.withheld_from is not None or state.resolved_on is not None or state.voided_on is not None:
        return None  # a release needs a payment (or 红冲), not a day
    due = state.withhold_due_on if state.warning else state.current.warning_due_on
    if due is None:
        return None  # warned under a profile without withholding: nothing more the clock can bring
    decide_on = due - THE_DAY_BEFORE
    return decide_on if state.outstanding_as_of(decide_on) > ZERO else None


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
        if isinstance(state, InvoiceObligation) and state.withhold_waits_for_year is not None and state.warning is not None:
            withheld_from = withhold_date(state.warning.warned_on, profile.overdue, calendar)
            source = calendar.source_of(state.withhold_waits_for_year)
            scheduled = WithholdDateSet(
                invoice_id=state.invoice_id, warning_decision_id=state.warning.decision_id, withhold_due_on=withheld_from,
                calendar_source=source,
            )
            return [scheduled, *_settle(_evolve(scheduled, state, ""))]
    except CalendarYearNotCovered as missing:
        if isinstance(state, AwaitingCalendar) and missing.year != state.invoice.waiting_for_year:
            return [_awaiting(state.facts(), profile, missing.year)]
    return []


def waiting_for_year(state: State) -> int | None:
    """The year whose working-day calendar the next decision about this invoice waits for, if any."""
    if isinstance(state, AwaitingCalendar):
        return state.invoice.waiting_for_year
    return state.withhold_waits_for_year if state is not None else None


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


def decide_on_payment(state: InvoiceObligation, payment: Payment) -> list[ObligationEvent]:
    """Count ``payment``; once the invoice is fully paid, release a withhold or close the warning."""
    if any(p.payment_id == payment.payment_id for p in state.payments):
        return []
    applied = PaymentApplied(
        invoice_id=state.invoice_id, payment_id=payment.payment_id, amount=payment.amount,
        paid_on=payment.paid_on, payment_event_id=payment.event_id,
    )
    return [applied, *_settle(_evolve(applied, state, ""))]


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
    if state.warning is None:
        warned_on = state.current.warning_due_on
        decide_on = warned_on - THE_DAY_BEFORE
        outstanding = state.outstanding_as_of(decide_on)
        if day.business_date < decide_on or outstanding == ZERO:
            return []
        warning = PaymentOverdueWarned(
            **_decision(state, f"warning-{state.invoice_id}{state.round}", (state.current.caused_by[-1], day.event_id)),
            deadline=state.deadline,
            warned_on=warned_on,
            outstanding_amount=outstanding,
            **_withhold_schedule(warned_on, policy, calendar),
            day_closed_on=day.business_date,
        )
        return [warning, *_settle(_evolve(warning, state, ""))]
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
        **_decision(state, f"withhold-{state.invoice_id}{state.round}", (state.warning_event_id, day.event_id)),
        warned_on=state.warning.warned_on,
        withheld_from=withheld_from,
        outstanding_amount=outstanding,
        day_closed_on=day.business_date,
    )
    return [withhold, *_settle(_evolve(withhold, state, ""))]


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


def _settle(state: InvoiceObligation) -> Sequence[ObligationEvent]:
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
        return _release(state, causes, done.paid_on, reason)
    if state.withhold_waits_for_year is not None:
        return []  # whether it came within the grace period is known once the calendar covers its end
    grace_ends = state.withhold_due_on
    if grace_ends is None or done.paid_on <= grace_ends - THE_DAY_BEFORE:
        return _resolve(state, causes, done.paid_on, reason)
    return []


def _release(state: InvoiceObligation, causes: tuple[str, ...], on: date, reason: str) -> list[ObligationEvent]:
    """Lift the withhold (回款后恢复拨付), once."""
    if state.released_on is not None:
        return []
    return [
        SettlementReleased(
            **_decision(state, f"release-{state.invoice_id}{state.round}", causes),
            withhold_decision_id=f"withhold-{state.invoice_id}{state.round}",
            released_on=on,
            reason=reason,
        )
    ]


def _resolve(state: InvoiceObligation, causes: tuple[str, ...], on: date, reason: str) -> list[ObligationEvent]:
    """Close the open warning (not yet escalated to a withhold), once."""
    if state.warning is None or state.resolved_on is not None or state.withheld_from is not None:
        return []
    return [
        OverdueWarningResolved(
            **_decision(state, f"resolution-{state.invoice_id}{state.round}", causes),
            warning_decision_id=state.warning.decision_id,
            resolved_on=on,
            reason=reason,
        )
    ]


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
        known = any(isinstance(e, CreditApplied) and e.credit_note_id == credit.credit_note_id for e, _ in state.early)
        return [] if known or state.voided_on is not None else [applied]
    if state.voided_on is not None or any(p.payment_id == f"credit:{credit.credit_note_id}" for p in state.payments):
        return []
    after = _evolve(applied, state, "")
    if after.outstanding == ZERO or not profile.payment_term.credit_note_restarts_clock or after.withheld_from is not None:
        return [applied, *_settle(after)]
    t = after.tracked
    deadline = payment_deadline(profile.payment_term, t.latest_acceptance_on, credit.received_on, calendar)
    restart = PaymentDeadlineSet(
        **_decision(after, f"deadline-{t.invoice_id}:r{after.restarts + 2}", (after.invoice_event_id, credit.event_id)),
        **t.model_dump(include={"invoice_number", "pooling_region_code", "distributor_id", "amount", "issued_on", "latest_acceptance_on", "rule"}),
        received_on=credit.received_on,
        deadline=deadline,
        warning_due_on=warning_date(deadline, profile.overdue, calendar),
    )
    ahead = last_closed is None or deadline > last_closed
    closed = _resolve(after, (credit.event_id,), credit.received_on, "clock_restarted") if ahead else []
    return [applied, *closed, restart]


def decide_on_void(state: InvoiceObligation | AwaitingCalendar, void: Void) -> list[ObligationEvent]:
    """The invoice is voided (全额红冲): nothing is owed; a withhold it caused is lifted, an open warning closed."""
    if state.voided_on is not None:
        return []
    applied = VoidApplied(invoice_id=state.invoice_id, voided_on=void.voided_on, void_event_id=void.event_id)
    if isinstance(state, AwaitingCalendar):
        return [applied]
    causes = (void.event_id,)
    if state.withheld_from is not None:
        return [applied, *_release(state, causes, void.voided_on, "voided")]
    return [applied, *_resolve(state, causes, void.voided_on, "voided")]


class _DecisionFields(TypedDict):
    decision_id: str
    invoice_id: str
    institution_id: str
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


def _decision(state: InvoiceObligation, decision_id: str, caused_by: tuple[str, ...]) -> _DecisionFields:
    """What every decision about this invoice names: itself, the invoice, the profile, its causes."""
    t = state.tracked
    return _DecisionFields(
        decision_id=decision_id,
        invoice_id=t.invoice_id,
        institution_id=t.institution_id,
        profile_id=t.profile_id,
        profile_version=t.profile_version,
        caused_by=caused_by,
    )
