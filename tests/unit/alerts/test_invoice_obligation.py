"""R1 payment deadline and R2 warning → withheld settlement, Guizhou 000 §五(三), on real 2026 dates.

Given the events of an invoice stream / when a day closes or a payment arrives /
then the decisions. 2026 schedule (国办发明电〔2025〕7号): National Day and
Mid-Autumn rest 10-01..10-07, make-up working day Saturday 10-10 (调休).

Invoice accepted 2026-09-01, received 2026-09-05: 30 days → Monday 10-05, a
holiday, so the deadline is the first working day after it, Thursday 10-08
(Civil Code art. 203). Warning on the first overdue day, Friday 10-09. The 10
working days after it: Sat 10-10 (make-up), 12, 13, 14, 15, 16, 19, 20, 21, 22
→ settlement withheld from Friday 10-23 when still unpaid at the end of 10-22.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest

from jicai_alerts.domain import clock
from jicai_alerts.domain import events as e
from jicai_alerts.domain import invoice_decisions as rules
from jicai_alerts.domain import invoice_obligation as io
from jicai_events.rules import Conflict
from jicai_policy import OverduePolicy, PolicyBook, WarningSchedule, load_policy_book

GUIYANG = "520100"  # 贵阳市, a Guizhou pooling region
WARNED = ("warned", "2026-10-09", "10000.00")


@pytest.fixture
def book(monkeypatch: pytest.MonkeyPatch) -> PolicyBook:
    monkeypatch.delenv("JICAI_POLICY_DIR", raising=False)
    monkeypatch.delenv("JICAI_CALENDAR_DIR", raising=False)
    return load_policy_book(calendar_overrides=())


def days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


class Stream:
    """An invoice stream in memory: records decided events with event ids, as the store would."""

    def __init__(self, book: PolicyBook, overdue: OverduePolicy | None = None) -> None:
        self.book = book
        self.recorded: list[io.Recorded] = []
        self.overdue = overdue
        """Stands for the profile's overdue policy, from the deadline on."""

    @property
    def state(self) -> io.InvoiceObligation:
        state = io.fold(self.recorded)
        assert isinstance(state, io.InvoiceObligation), state
        return state

    def _record(self, new: list[e.ObligationEvent]) -> list[e.ObligationEvent]:
        self.recorded += [(event, f"evt-{len(self.recorded) + i}") for i, event in enumerate(new)]
        return new

    def receive(self, accepted: date, received: date, amount: str = "10000.00", invoice_id: str = "INV-1") -> list[e.ObligationEvent]:
        invoice = io.TrackInvoice(
            invoice_id=invoice_id, invoice_number="52001234", institution_id="H001", pooling_region_code=GUIYANG,
            distributor_id="D001", amount=Decimal(amount), issued_on=accepted, received_on=received,
            latest_acceptance_on=accepted, event_id="invoice-received-1",
        )
        profile = self.book.profile_for(GUIYANG, on=received)
        if self.overdue is not None:
            profile = profile.model_copy(update={"overdue": self.overdue})
        state = io.fold(self.recorded)
        return self._record(rules.decide_on_invoice_received(state, invoice, profile, self.book.calendar))

    def pay(self, payment_id: str, amount: str, paid_on: date) -> list[e.ObligationEvent]:
        payment = io.Payment(payment_id, Decimal(amount), paid_on, f"payment-recorded-{payment_id}")
        return self._record(rules.decide_on_payment(self.state, payment))

    def close(self, day: date) -> list[e.ObligationEvent]:
        """Close ``day`` as the service does: record each stage, then ask again."""
        policy = self.overdue or self.book.get(self.state.tracked.profile_id, self.state.tracked.profile_version).overdue
        decided: list[e.ObligationEvent] = []
        while new := rules.decide_on_day_closed(self.state, io.ClosedDay(day, f"day-closed-{day}"), self.book.calendar, policy):
            decided += self._record(new)
        return decided

    def close_each_day(self, first: date, last: date) -> list[e.ObligationEvent]:
        return [event for day in days(first, last) for event in self.close(day)]


def decisions(events: list[e.ObligationEvent]) -> list[tuple[str, ...]]:
    """What a user notices of each decision: its kind and dates and amounts."""
    out: list[tuple[str, ...]] = []
    for event in events:
        match event:
            case e.PaymentOverdueWarned():
                out.append(("warned", str(event.warned_on), str(event.outstanding_amount)))
            case e.SettlementWithheld():
                out.append(("withheld", str(event.withheld_from), str(event.outstanding_amount)))
            case e.SettlementReleased():
                out.append(("released", str(event.released_on)))
            case e.OverdueWarningResolved():
                out.append(("resolved", str(event.resolved_on)))
    return out


# ---- R1 deadline ------------------------------------------------------------------------


def test_deadline_falling_in_national_day_moves_to_first_working_day_after(book: PolicyBook) -> None:
    assert [book.calendar.is_working_day(d) for d in days(date(2026, 10, 1), date(2026, 10, 8))] == [False] * 7 + [True]

    [deadline] = Stream(book).receive(accepted=date(2026, 9, 1), received=date(2026, 9, 5))

    assert isinstance(deadline, e.PaymentDeadlineSet)
    assert deadline.deadline == date(2026, 10, 8)
    assert deadline.decision_id == "deadline-INV-1"
    assert deadline.rule == "later_of_acceptance_and_invoice_plus_days"
    assert (deadline.profile_id, deadline.profile_version) == ("guizhou-2020", 1)
    assert deadline.caused_by == ("invoice-received-1",)


def test_deadline_counts_from_the_later_acceptance_and_may_end_on_a_makeup_saturday(book: PolicyBook) -> None:
    stream = Stream(book)
    invoice = io.TrackInvoice(
        invoice_id="INV-2", invoice_number="1", institution_id="H001", pooling_region_code=GUIYANG, distributor_id="D001",
        amount=Decimal("500.00"), issued_on=date(2026, 9, 4), received_on=date(2026, 9, 5),
        latest_acceptance_on=date(2026, 9, 10), event_id="ir-2",
    )
    [deadline] = rules.decide_on_invoice_received(None, invoice, book.profile_for(GUIYANG, on=invoice.received_on), stream.book.calendar)

    assert date(2026, 10, 10).weekday() == 5 and book.calendar.is_working_day(date(2026, 10, 10))
    assert isinstance(deadline, e.PaymentDeadlineSet) and deadline.deadline == date(2026, 10, 10)


def test_the_same_invoice_again_records_nothing_and_other_facts_are_refused(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))

    assert stream.receive(date(2026, 9, 1), date(2026, 9, 5)) == []
    with pytest.raises(Conflict):
        stream.receive(date(2026, 9, 1), date(2026, 9, 5), amount="9999.00")


def test_a_year_the_calendar_does_not_cover_is_awaited_not_guessed(book: PolicyBook) -> None:
    # received 2026-12-10: 30 days end on 2027-01-09, and no 2027 calendar is loaded (more in test_calendar_waits)
    [awaiting] = Stream(book).receive(date(2026, 12, 1), date(2026, 12, 10))
    assert isinstance(awaiting, e.InvoiceAwaitingCalendar) and awaiting.waiting_for_year == 2027


# ---- R2 warning and withhold -------------------------------------------------------------


def test_unpaid_invoice_is_warned_the_day_after_its_deadline(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))

    assert stream.close_each_day(date(2026, 9, 5), date(2026, 10, 7)) == []
    [warning] = stream.close(date(2026, 10, 8))

    assert isinstance(warning, e.PaymentOverdueWarned)
    assert (warning.deadline, warning.warned_on, warning.outstanding_amount) == (date(2026, 10, 8), date(2026, 10, 9), Decimal("10000.00"))
    assert warning.decision_id == "warning-INV-1"
    assert warning.caused_by == ("invoice-received-1", "day-closed-2026-10-08")
    assert io.status(stream.state) is io.Status.OVERDUE


def test_withheld_after_ten_working_days_counting_the_makeup_saturday(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 8))
    warning_event_id = stream.state.warning_event_id

    assert stream.close_each_day(date(2026, 10, 9), date(2026, 10, 21)) == []
    [withhold] = stream.close(date(2026, 10, 22))

    assert isinstance(withhold, e.SettlementWithheld)
    assert (withhold.warned_on, withhold.withheld_from) == (date(2026, 10, 9), date(2026, 10, 23))
    assert withhold.caused_by == (warning_event_id, "day-closed-2026-10-22")
    assert (withhold.profile_id, withhold.profile_version) == ("guizhou-2020", 1)
    assert io.status(stream.state) is io.Status.WITHHELD
    assert io.next_decision_on(stream.state) is None
    assert stream.close_each_day(date(2026, 10, 23), date(2026, 12, 31)) == []


def test_partial_payment_before_the_deadline_still_warns_for_what_is_left(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.pay("P1", "4000.00", date(2026, 10, 8))

    assert decisions(stream.close_each_day(date(2026, 9, 5), date(2026, 10, 8))) == [("warned", "2026-10-09", "6000.00")]


def test_full_payment_on_the_deadline_brings_no_decision_ever(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.pay("P1", "6000.00", date(2026, 9, 30))
    stream.pay("P2", "4000.00", date(2026, 10, 8))

    assert stream.close_each_day(date(2026, 9, 5), date(2026, 12, 31)) == []
    assert io.status(stream.state) is io.Status.PAID
    assert io.next_decision_on(stream.state) is None


def test_payment_within_the_grace_period_closes_the_warning_and_nothing_is_withheld(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 14))

    [applied, resolved] = stream.pay("P1", "10000.00", date(2026, 10, 15))

    assert isinstance(applied, e.PaymentApplied)
    assert isinstance(resolved, e.OverdueWarningResolved) and resolved.resolved_on == date(2026, 10, 15)
    assert resolved.caused_by == ("payment-recorded-P1",)
    assert stream.close_each_day(date(2026, 10, 15), date(2026, 12, 31)) == []
    assert io.status(stream.state) is io.Status.PAID


@pytest.mark.parametrize(
    ("paid_on", "expected"),
    [
        (date(2026, 10, 22), [WARNED, ("resolved", "2026-10-22")]),  # the last grace working day: still in time
        (date(2026, 10, 23), [WARNED, ("withheld", "2026-10-23", "10000.00"), ("released", "2026-10-23")]),
    ],
)
def test_grace_period_ends_with_its_tenth_working_day(book: PolicyBook, paid_on: date, expected: list[tuple[str, ...]]) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    decided = stream.close_each_day(date(2026, 9, 5), paid_on - timedelta(days=1))
    decided += stream.pay("P1", "10000.00", paid_on) + stream.close_each_day(paid_on, date(2026, 11, 30))

    assert decisions(decided) == expected


def test_payment_after_the_withhold_releases_it_on_the_paid_date(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 30))

    assert decisions(stream.pay("P1", "3000.00", date(2026, 11, 2))) == []  # partial: still withheld
    [_, release] = stream.pay("P2", "7000.00", date(2026, 11, 3))

    assert isinstance(release, e.SettlementReleased)
    assert (release.released_on, release.withhold_decision_id) == (date(2026, 11, 3), "withhold-INV-1")
    assert release.caused_by == ("payment-recorded-P1", "payment-recorded-P2")
    assert io.status(stream.state) is io.Status.RELEASED
    assert stream.pay("P2", "7000.00", date(2026, 11, 3)) == []  # the same payment again


def test_release_is_dated_when_the_invoice_became_fully_paid_whatever_the_arrival_order(book: PolicyBook) -> None:
    stream = Stream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 30))

    assert stream.pay("P2", "7000.00", date(2026, 11, 3)) != []
    decided = stream.pay("P1", "3000.00", date(2026, 11, 2))  # recorded late, paid the day before

    assert decisions(decided) == [("released", "2026-11-03")]


def test_one_day_close_far_ahead_decides_as_closing_every_day(book: PolicyBook) -> None:
    each_day, jump = Stream(book), Stream(book)
    for stream in (each_day, jump):
        stream.receive(date(2026, 9, 1), date(2026, 9, 5))
        stream.pay("P1", "2500.00", date(2026, 10, 12))

    one_by_one = each_day.close_each_day(date(2026, 9, 5), date(2026, 12, 31))
    at_once = jump.close(date(2026, 12, 31))

    assert decisions(at_once) == decisions(one_by_one) == [("warned", "2026-10-09", "10000.00"), ("withheld", "2026-10-23", "7500.00")]
    warned, withheld = at_once
    assert isinstance(warned, e.PaymentOverdueWarned) and isinstance(withheld, e.SettlementWithheld)
    assert [warned.decision_id, withheld.decision_id] == ["warning-INV-1", "withhold-INV-1"]


def test_payment_known_before_the_clock_catches_up_counts_by_its_date(book: PolicyBook) -> None:
    lagging, on_time = Stream(book), Stream(book)
    for stream in (lagging, on_time):
        stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    lagging.pay("P1", "10000.00", date(2026, 10, 26))
    on_time.close_each_day(date(2026, 9, 5), date(2026, 10, 25))
    on_time.pay("P1", "10000.00", date(2026, 10, 26))

    assert decisions(lagging.close(date(2026, 11, 30))) == decisions([event for event, _ in on_time.recorded]) == [
        ("warned", "2026-10-09", "10000.00"),
        ("withheld", "2026-10-23", "10000.00"),
        ("released", "2026-10-26"),
    ]


# ---- the clock and the profile -----------------------------------------------------------


def test_only_a_later_day_moves_the_clock() -> None:
    day = io.ClosedDay(date(2026, 10, 8), "dc-1")

    assert clock.close(None, day) == [e.BusinessDayClosed(business_date=date(2026, 10, 8), day_closed_event_id="dc-1")]
    assert clock.close(date(2026, 10, 8), io.ClosedDay(date(2026, 10, 8), "dc-2")) == []
    assert clock.close(date(2026, 10, 8), io.ClosedDay(date(2026, 10, 7), "dc-3")) == []


def test_grace_working_days_come_from_the_profile(book: PolicyBook) -> None:
    three_days = OverduePolicy(grace_working_days=3, warning_schedule=WarningSchedule.FIRST_OVERDUE_DAY, source="test")
    stream = Stream(book, overdue=three_days)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))

    # 3 working days after Fri 10-09: Sat 10-10 (make-up), Mon 10-12, Tue 10-13 → withheld from Wed 10-14
    assert decisions(stream.close(date(2026, 10, 31))) == [("warned", "2026-10-09", "10000.00"), ("withheld", "2026-10-14", "10000.00")]


def test_monthly_monitoring_warns_on_the_monitoring_day_if_still_unpaid_then(book: PolicyBook) -> None:
    monthly = OverduePolicy(
        grace_working_days=10, warning_schedule=WarningSchedule.MONTHLY_MONITORING, monitoring_day_of_month=5, source="test"
    )
    unpaid, paid_late = Stream(book, overdue=monthly), Stream(book, overdue=monthly)
    for stream in (unpaid, paid_late):
        stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    paid_late.pay("P1", "10000.00", date(2026, 10, 20))

    # deadline Thu 10-08; the monitoring of the next month is Thu 11-05; 10 working days later: Thu 11-19
    assert unpaid.close_each_day(date(2026, 9, 5), date(2026, 11, 3)) == []
    assert decisions(unpaid.close(date(2026, 11, 4))) == [("warned", "2026-11-05", "10000.00")]
    assert decisions(unpaid.close(date(2026, 11, 30))) == [("withheld", "2026-11-20", "10000.00")]
    assert paid_late.close(date(2026, 11, 30)) == []
