"""A decision is taken as soon as the dates it needs are known (R1/R2 across the year end).

The calendar library covers 2026 only. Guizhou 000 §五(三): an invoice accepted and
received Fri 2026-11-20 is due Sun 12-20 → Mon 12-21 (Civil Code art. 203), warned Tue
12-22; its 10 grace working days run 12-23…12-31 (7) and into 2027. With the test's
2027 calendar (1 January a holiday) they end Wed 2027-01-06: withheld from Thu 01-07.
An invoice received 2026-12-10 is due 2027-01-09 (a Saturday) → Mon 01-11: its deadline
itself needs 2027.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_alerts.domain import events as e
from jicai_alerts.domain import invoice_decisions as rules
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain import red_letter
from jicai_policy import PolicyBook, YearCalendar
from tests.unit.alerts.test_invoice_obligation import Stream, book, decisions

__all__ = ["book"]

CALENDAR_2027 = YearCalendar(
    2027, "test schedule for 2027", frozenset({date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)}), frozenset()
)


def with_2027(book: PolicyBook) -> PolicyBook:
    return book.with_calendar(book.calendar.with_years(CALENDAR_2027))


class LateStream(Stream):
    """The in-memory stream of ``Stream``, whose book can learn a calendar year on the way."""

    @property
    def any_state(self) -> io.State:
        return io.fold(self.recorded)

    def load(self, book: PolicyBook, last_closed: date) -> list[e.ObligationEvent]:
        """As the service does: set what waited, then catch up with the last closed day."""
        self.book = book
        state = self.any_state
        assert state is not None
        decided = self._record(rules.decide_on_calendar_loaded(state, book.get(*state.profile_ref), book.calendar))
        return decided + self.close(last_closed)

    def credit(self, credit_note_id: str, amount: str, received: date) -> list[e.ObligationEvent]:
        credit = red_letter.Credit("INV-1", credit_note_id, Decimal(amount), received, f"credited-{credit_note_id}")
        state = self.any_state
        assert state is not None
        return self._record(red_letter.decide_on_credit(state, credit, self.book.get(*state.profile_ref), self.book.calendar, None))


def test_the_warning_does_not_wait_for_next_years_calendar_only_the_withhold_does(book: PolicyBook) -> None:
    stream = LateStream(book)
    [deadline] = stream.receive(date(2026, 11, 20), date(2026, 11, 20))
    assert isinstance(deadline, e.PaymentDeadlineSet) and deadline.deadline == date(2026, 12, 21)

    [warning] = stream.close_each_day(date(2026, 11, 20), date(2026, 12, 31))

    assert isinstance(warning, e.PaymentOverdueWarned)
    assert (warning.warned_on, warning.withhold_due_on, warning.withhold_waits_for_year) == (date(2026, 12, 22), None, 2027)
    assert io.waiting_for_year(stream.state) == 2027
    assert io.next_decision_on(stream.state) is None, "no day of the clock can bring the withhold before the calendar"


def test_loading_the_year_withholds_as_of_its_own_date(book: PolicyBook) -> None:
    late = LateStream(book)
    late.receive(date(2026, 11, 20), date(2026, 11, 20))
    late.close_each_day(date(2026, 11, 20), date(2026, 12, 31))
    assert late.close(date(2027, 1, 10)) == []  # the clock may run on: the withhold still waits

    decided = late.load(with_2027(book), last_closed=date(2027, 1, 10))

    assert decisions(decided) == [("withheld", "2027-01-07", "10000.00")]
    assert io.waiting_for_year(late.state) is None
    from_start = Stream(with_2027(book))
    from_start.receive(date(2026, 11, 20), date(2026, 11, 20))
    assert decisions([ev for ev, _ in late.recorded]) == decisions(from_start.close_each_day(date(2026, 11, 20), date(2027, 1, 10)))


@pytest.mark.parametrize(
    ("paid_on", "expected"),
    [
        (date(2026, 12, 30), [("warned", "2026-12-22", "10000.00"), ("resolved", "2026-12-30")]),
        (date(2027, 1, 6), [("warned", "2026-12-22", "10000.00"), ("resolved", "2027-01-06")]),  # last grace day
        (date(2027, 1, 8), [("warned", "2026-12-22", "10000.00"), ("withheld", "2027-01-07", "10000.00"), ("released", "2027-01-08")]),
    ],
)
def test_a_payment_while_the_withhold_waits_counts_by_its_date_once_the_year_is_loaded(
    book: PolicyBook, paid_on: date, expected: list[tuple[str, ...]]
) -> None:
    late = LateStream(book)
    late.receive(date(2026, 11, 20), date(2026, 11, 20))
    late.close_each_day(date(2026, 11, 20), date(2026, 12, 31))

    assert late.pay("P1", "10000.00", paid_on) == [e.PaymentApplied(
        invoice_id="INV-1", payment_id="P1", amount=Decimal("10000.00"), paid_on=paid_on, payment_event_id="payment-recorded-P1")
    ], "whether it came within the grace period is not known yet"
    late.load(with_2027(book), last_closed=date(2027, 1, 31))

    assert decisions([ev for ev, _ in late.recorded]) == expected
    from_start = Stream(with_2027(book))
    from_start.receive(date(2026, 11, 20), date(2026, 11, 20))
    from_start.pay("P1", "10000.00", paid_on)
    from_start.close_each_day(date(2026, 11, 20), date(2027, 1, 31))
    assert decisions([ev for ev, _ in from_start.recorded]) == expected


def test_an_invoice_whose_deadline_needs_next_year_is_tracked_awaiting_the_calendar(book: PolicyBook) -> None:
    late = LateStream(book)

    [awaiting] = late.receive(date(2026, 12, 1), date(2026, 12, 10))

    assert isinstance(awaiting, e.InvoiceAwaitingCalendar)
    assert (awaiting.waiting_for_year, awaiting.profile_id, awaiting.rule) == (2027, "guizhou-2020", "later_of_acceptance_and_invoice_plus_days")
    assert late.receive(date(2026, 12, 1), date(2026, 12, 10)) == [], "the same invoice again records nothing"
    assert io.waiting_for_year(late.any_state) == 2027

    decided = late.load(with_2027(book), last_closed=date(2027, 1, 31))

    assert [(type(ev).__name__, getattr(ev, "deadline", None)) for ev in decided[:1]] == [("PaymentDeadlineSet", date(2027, 1, 11))]
    # 10 working days after Tue 01-12: 13, 14, 15, 18 … 22, 25, 26 → withheld from Wed 01-27
    assert decisions(decided) == [("warned", "2027-01-12", "10000.00"), ("withheld", "2027-01-27", "10000.00")]
    from_start = Stream(with_2027(book))
    from_start.receive(date(2026, 12, 1), date(2026, 12, 10))
    assert decisions(from_start.close_each_day(date(2026, 12, 10), date(2027, 1, 31))) == decisions(decided)


def test_credit_notes_and_voids_count_while_the_invoice_awaits_the_calendar(book: PolicyBook) -> None:
    late = LateStream(book)
    late.receive(date(2026, 12, 1), date(2026, 12, 10))

    [credited] = late.credit("CN-1", "4000.00", date(2026, 12, 15))
    assert isinstance(credited, e.CreditApplied)
    assert late.credit("CN-1", "4000.00", date(2026, 12, 15)) == []
    late.load(with_2027(book), last_closed=date(2027, 1, 31))

    assert late.state.credited == Decimal("4000.00")
    assert decisions([ev for ev, _ in late.recorded]) == [("warned", "2027-01-12", "6000.00"), ("withheld", "2027-01-27", "6000.00")]


def test_a_year_still_missing_after_loading_another_keeps_the_invoice_waiting(book: PolicyBook) -> None:
    late = LateStream(book)
    late.receive(date(2026, 12, 1), date(2026, 12, 10))
    state = late.any_state
    assert state is not None
    # loading a year that does not help (here: nothing new) decides nothing
    assert rules.decide_on_calendar_loaded(state, book.get(*state.profile_ref), book.calendar) == []
    assert io.waiting_for_year(state) == 2027


def test_a_credit_note_restarting_the_clock_into_next_year_waits_for_its_calendar(book: PolicyBook) -> None:
    # Guizhou restarts the clock on a credit note that leaves something owed: received 12-05 → 30 days → 2027-01-04
    late = LateStream(book)
    late.receive(date(2026, 11, 20), date(2026, 11, 20))
    late.close_each_day(date(2026, 11, 20), date(2026, 12, 4))

    credited, waits = late.credit("CN-1", "4000.00", date(2026, 12, 5))

    assert isinstance(credited, e.CreditApplied) and isinstance(waits, e.ClockRestartAwaitingCalendar)
    assert late.close_each_day(date(2026, 12, 5), date(2026, 12, 31)) == [], "the old deadline (12-21) is not in force any more"
    assert io.waiting_for_year(late.state) == 2027
    late.load(with_2027(book), last_closed=date(2027, 1, 31))

    assert late.state.deadline == date(2027, 1, 4)
    # warned Tue 01-05; 10 working days 01-06 … 01-19 → withheld from Wed 01-20
    assert decisions([ev for ev, _ in late.recorded]) == [("warned", "2027-01-05", "6000.00"), ("withheld", "2027-01-20", "6000.00")]
    from_start = LateStream(with_2027(book))
    from_start.receive(date(2026, 11, 20), date(2026, 11, 20))
    from_start.close_each_day(date(2026, 11, 20), date(2026, 12, 4))
    from_start.credit("CN-1", "4000.00", date(2026, 12, 5))
    from_start.close_each_day(date(2026, 12, 5), date(2027, 1, 31))
    assert decisions([ev for ev, _ in from_start.recorded]) == decisions([ev for ev, _ in late.recorded])
    assert from_start.state.deadline == late.state.deadline


def test_a_payment_while_the_deadline_waits_counts_now_and_decides_as_from_the_start(book: PolicyBook) -> None:
    late = LateStream(book)
    late.receive(date(2026, 12, 1), date(2026, 12, 10))
    payment = io.Payment("P1", Decimal("3000.00"), date(2026, 12, 20), "payment-recorded-P1")

    awaiting = late.any_state
    assert isinstance(awaiting, io.AwaitingCalendar)
    [applied] = late._record(rules.decide_on_payment(awaiting, payment))
    assert isinstance(applied, e.PaymentApplied)
    waiting = late.any_state
    assert isinstance(waiting, io.AwaitingCalendar) and waiting.outstanding == Decimal("7000.00")
    assert rules.decide_on_payment(waiting, payment) == [], "counted once"
    late.load(with_2027(book), last_closed=date(2027, 1, 31))

    from_start = Stream(with_2027(book))
    from_start.receive(date(2026, 12, 1), date(2026, 12, 10))
    from_start.pay("P1", "3000.00", date(2026, 12, 20))
    from_start.close_each_day(date(2026, 12, 10), date(2027, 1, 31))
    assert decisions([ev for ev, _ in late.recorded]) == decisions([ev for ev, _ in from_start.recorded])
    assert decisions([ev for ev, _ in late.recorded])[0] == ("warned", "2027-01-12", "7000.00")
