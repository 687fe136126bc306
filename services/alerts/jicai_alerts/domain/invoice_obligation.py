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

红冲 (credit notes and voids) are decided in ``red_letter``.

A decision is taken as soon as the dates it needs are known. The working-day
calendar covers the years the State Council has published; an invoice whose
deadline needs a year not covered yet is tracked as awaiting the calendar
(``InvoiceAwaitingCalendar``) and a warning whose grace working days reach such
a year is published without its withhold date (``withhold_waits_for_year``).
Loading that year (``decide_on_calendar_loaded``) sets what waited; the day
closes already passed then decide it as of its own dates.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import singledispatch

from jicai_alerts.domain.events import (
    ClockRestartAwaitingCalendar,
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
    restart_waits: ClockRestartAwaitingCalendar | None = None
    """A credit note's restart of the clock whose new deadline waits for the calendar."""

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
    def waiting_for_year(self) -> int | None:
        """The year whose calendar the next decision needs: a restarted deadline, or the withhold date while it
        matters (nothing resolved, voided or withheld)."""
        if self.voided_on is not None:
            return None
        if self.restart_waits is not None:
            return self.restart_waits.waiting_for_year
        if self.warning is None or self.withhold_set is not None or self.resolved_on is not None:
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
def evolve(event: object, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    raise TypeError(f"not an invoice obligation event: {type(event).__name__}")


@evolve.register
def _(event: PaymentApplied, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    payment = Payment(event.payment_id, event.amount, event.paid_on, event.payment_event_id)
    return replace(state, payments=(*state.payments, payment))


@evolve.register
def _(event: CreditApplied, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    credit = Payment(f"credit:{event.credit_note_id}", event.amount, event.received_on, event.credit_event_id, "credit")
    return replace(state, payments=(*state.payments, credit))


@evolve.register
def _(event: VoidApplied, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, voided_on=event.voided_on)


@evolve.register
def _(event: PaymentDeadlineSet, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    """A restart (红冲): a closed or absent warning makes room for the new round's; an open warning or a withhold stands."""
    if state.withheld_from is None and (state.warning is None or state.resolved_on is not None):
        return replace(
            state, restart=event, restarts=state.restarts + 1, warning=None, warning_event_id=None, resolved_on=None,
            withhold_set=None, restart_waits=None,
        )
    return replace(state, restart=event, restarts=state.restarts + 1, restart_waits=None)


@evolve.register
def _(event: ClockRestartAwaitingCalendar, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, restart_waits=event)


@evolve.register
def _(event: PaymentOverdueWarned, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, warning=event, warning_event_id=event_id)


@evolve.register
def _(event: OverdueWarningResolved, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, resolved_on=event.resolved_on)


@evolve.register
def _(event: SettlementWithheld, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, withheld_from=event.withheld_from)


@evolve.register
def _(event: SettlementReleased, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, released_on=event.released_on)


@evolve.register
def _(event: WithholdDateSet, state: InvoiceObligation, event_id: str) -> InvoiceObligation:
    return replace(state, withhold_set=event.withhold_due_on)


@dataclass(frozen=True)
class AwaitingCalendar:
    """An invoice tracked whose deadline needs a year the calendar does not cover yet."""

    invoice: InvoiceAwaitingCalendar
    early: tuple[Recorded, ...] = ()
    """Payments, credit notes and voids counted while it waited; they apply once the deadline is set."""

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

    @property
    def paid(self) -> Decimal:
        return sum((e.amount for e, _ in self.early if isinstance(e, PaymentApplied)), ZERO)

    @property
    def outstanding(self) -> Decimal:
        return ZERO if self.voided_on else max(self.invoice.amount - self.paid - self.credited, ZERO)

    def counted(self, payment_id: str) -> bool:
        """Whether the payment (or ``credit:{id}``) is counted already."""
        return any(
            (isinstance(e, PaymentApplied) and e.payment_id == payment_id)
            or (isinstance(e, CreditApplied) and f"credit:{e.credit_note_id}" == payment_id)
            for e, _ in self.early
        )

    def facts(self) -> TrackInvoice:
        return TrackInvoice(**self.invoice.model_dump(include=set(InvoiceFacts.model_fields)), event_id=self.invoice.invoice_event_id)


State = InvoiceObligation | AwaitingCalendar | None


def fold(recorded: Iterable[Recorded]) -> State:
    """The obligation after its recorded events (``None`` before the invoice is tracked)."""
    state: State = None
    for event, event_id in recorded:
        state = fold_one(state, event, event_id)
    return state


def fold_one(state: State, event: ObligationEvent, event_id: str) -> State:
    """``fold``'s step: the obligation after ``state`` and one more recorded event (a rebuild folds every stream
    this way as its events come, in the order stored)."""
    if isinstance(state, InvoiceObligation):
        return evolve(event, state, event_id)
    if isinstance(event, InvoiceAwaitingCalendar):
        return AwaitingCalendar(event, state.early if state is not None else ())
    if isinstance(event, PaymentDeadlineSet):
        early = state.early if state is not None else ()
        obligation = InvoiceObligation(tracked=event)
        for waited, waited_id in early:
            obligation = evolve(waited, obligation, waited_id)
        return obligation
    if isinstance(state, AwaitingCalendar) and isinstance(event, PaymentApplied | CreditApplied | VoidApplied):
        return replace(state, early=(*state.early, (event, event_id)))
    raise ValueError(f"{event.name} before the invoice was tracked")


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
    if state.restart_waits is not None:
        return None  # the deadline in force waits for the calendar
    due = state.withhold_due_on if state.warning else state.current.warning_due_on
    if due is None:
        return None  # warned under a profile without withholding: nothing more the clock can bring
    decide_on = due - THE_DAY_BEFORE
    return decide_on if state.outstanding_as_of(decide_on) > ZERO else None


def waiting_for_year(state: State) -> int | None:
    """The year whose working-day calendar the next decision about this invoice waits for, if any."""
    if isinstance(state, AwaitingCalendar):
        return state.invoice.waiting_for_year
    return state.waiting_for_year if state is not None else None
