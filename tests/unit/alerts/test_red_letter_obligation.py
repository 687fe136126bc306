"""红冲 in R1/R2: credit notes reduce what is owed (and restart the clock where the profile says so), voids close the obligation.

Real 2026 dates (see test_invoice_obligation): accepted 09-01, received 09-05 → deadline Thu 10-08, warned Fri
10-09, withheld from Fri 10-23 under Guizhou 000 §五(三). A credit note received Fri 09-25 restarts the Guizhou
clock: 30 days → Sun 10-25, a rest day, so Mon 10-26 (Civil Code art. 203); Hubei 003 §四(三) counts from
acceptance only, so its deadline stays Thu 10-08.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_alerts.domain import events as e
from jicai_alerts.domain import invoice_decisions as rules
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain import red_letter
from jicai_policy import PolicyBook
from tests.unit.alerts.test_invoice_obligation import Stream, book

__all__ = ["book"]

WUHAN = "420100"  # 武汉市, Hubei


class RedLetterStream(Stream):
    """The in-memory invoice stream, with credit notes and voids, in any pooling region."""

    def __init__(self, book: PolicyBook, region: str = "520100") -> None:
        super().__init__(book)
        self.region = region
        self.last_closed: date | None = None

    def receive(self, accepted: date, received: date, amount: str = "10000.00", invoice_id: str = "INV-1") -> list[e.ObligationEvent]:
        invoice = io.TrackInvoice(
            invoice_id=invoice_id, invoice_number="52001234", institution_id="H001", pooling_region_code=self.region,
            distributor_id="D001", amount=Decimal(amount), issued_on=accepted, received_on=received,
            latest_acceptance_on=accepted, event_id="invoice-received-1",
        )
        profile = self.book.profile_for(self.region, on=received)
        return self._record(rules.decide_on_invoice_received(io.fold(self.recorded), invoice, profile, self.book.calendar))

    def close(self, day: date) -> list[e.ObligationEvent]:
        self.last_closed = day
        return super().close(day)

    def credit(self, credit_note_id: str, amount: str, received_on: date) -> list[e.ObligationEvent]:
        credit = red_letter.Credit("INV-1", credit_note_id, Decimal(amount), received_on, f"invoice-credited-{credit_note_id}")
        profile = self.book.get(self.state.tracked.profile_id, self.state.tracked.profile_version)
        return self._record(red_letter.decide_on_credit(self.state, credit, profile, self.book.calendar, self.last_closed))

    def void(self, voided_on: date) -> list[e.ObligationEvent]:
        return self._record(red_letter.decide_on_void(self.state, red_letter.Void("INV-1", voided_on, "invoice-voided-1")))


def test_guizhou_a_credit_note_restarts_the_clock_from_its_receipt(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    applied, restart = stream.credit("CN-1", "2000.00", date(2026, 9, 25))
    assert isinstance(applied, e.CreditApplied) and isinstance(restart, e.PaymentDeadlineSet)
    assert (restart.decision_id, restart.deadline, restart.received_on) == ("deadline-INV-1:r2", date(2026, 10, 26), date(2026, 9, 25))
    assert (restart.profile_id, restart.profile_version) == ("guizhou-2020", 1)
    assert restart.caused_by == ("invoice-received-1", "invoice-credited-CN-1")
    assert (stream.state.outstanding, stream.state.credited, stream.state.paid) == (Decimal("8000.00"), Decimal("2000.00"), Decimal("0.00"))

    assert stream.close_each_day(date(2026, 10, 8), date(2026, 10, 25)) == []  # the old deadline no longer counts
    [warning] = stream.close(date(2026, 10, 26))
    assert isinstance(warning, e.PaymentOverdueWarned)
    assert (warning.decision_id, warning.warned_on, warning.outstanding_amount) == ("warning-INV-1:r2", date(2026, 10, 27), Decimal("8000.00"))
    assert warning.caused_by == ("invoice-credited-CN-1", "day-closed-2026-10-26")


def test_hubei_counts_from_acceptance_so_a_credit_note_only_reduces_what_is_owed(book: PolicyBook) -> None:
    stream = RedLetterStream(book, WUHAN)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    assert [type(x) for x in stream.credit("CN-1", "2000.00", date(2026, 9, 25))] == [e.CreditApplied]
    assert (stream.state.deadline, stream.state.outstanding) == (date(2026, 10, 8), Decimal("8000.00"))
    [warning] = stream.close(date(2026, 10, 8))
    assert isinstance(warning, e.PaymentOverdueWarned) and warning.outstanding_amount == Decimal("8000.00")


def test_an_open_warning_is_closed_when_the_restarted_deadline_lies_ahead_and_a_new_round_follows(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 10, 8), date(2026, 10, 12))  # warned 10-09
    applied, resolved, restart = stream.credit("CN-1", "500.00", date(2026, 10, 12))
    assert isinstance(resolved, e.OverdueWarningResolved)
    assert (resolved.reason, resolved.resolved_on, resolved.warning_decision_id) == ("clock_restarted", date(2026, 10, 12), "warning-INV-1")
    assert isinstance(restart, e.PaymentDeadlineSet) and restart.deadline == date(2026, 11, 11)
    assert io.status(stream.state) is io.Status.OPEN
    assert stream.close_each_day(date(2026, 10, 13), date(2026, 11, 10)) == []  # no withhold from 10-23 any more
    [warning] = stream.close(date(2026, 11, 11))
    assert isinstance(warning, e.PaymentOverdueWarned) and warning.decision_id == "warning-INV-1:r2"


def test_a_credit_note_whose_new_deadline_has_passed_already_leaves_the_warning_open(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 10, 8), date(2026, 10, 12))
    # received 09-06, told only now: 30 days → 10-06, a holiday → 10-08, passed already
    applied, restart = stream.credit("CN-1", "500.00", date(2026, 9, 6))
    assert isinstance(restart, e.PaymentDeadlineSet) and restart.deadline == date(2026, 10, 8)
    assert io.status(stream.state) is io.Status.OVERDUE
    [withhold] = stream.close(date(2026, 10, 22))
    assert isinstance(withhold, e.SettlementWithheld) and withhold.outstanding_amount == Decimal("9500.00")


def test_a_credit_that_leaves_nothing_owed_releases_the_withhold_it_caused(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.pay("P1", "6000.00", date(2026, 10, 20))
    stream.close_each_day(date(2026, 10, 8), date(2026, 10, 31))  # withheld from 10-23
    assert stream.credit("CN-1", "1000.00", date(2026, 11, 2))[1:] == []  # something still owed, a withhold stands
    applied, released = stream.credit("CN-2", "3000.00", date(2026, 11, 3))
    assert isinstance(released, e.SettlementReleased)
    assert (released.reason, released.released_on, released.withhold_decision_id) == ("credited", date(2026, 11, 3), "withhold-INV-1")
    assert "invoice-credited-CN-2" in released.caused_by and (released.profile_id, released.profile_version) == ("guizhou-2020", 1)
    assert stream.credit("CN-2", "3000.00", date(2026, 11, 3)) == []
    assert (io.status(stream.state), stream.state.outstanding) == (io.Status.RELEASED, Decimal("0.00"))


def test_a_credit_in_full_before_the_deadline_closes_the_obligation_as_credited(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    assert [type(x) for x in stream.credit("CN-1", "10000.00", date(2026, 9, 20))] == [e.CreditApplied]
    assert io.status(stream.state) is io.Status.CREDITED and io.next_decision_on(stream.state) is None
    assert stream.close_each_day(date(2026, 10, 8), date(2026, 10, 31)) == []


@pytest.mark.parametrize(
    ("closed_until", "closes"),
    [(date(2026, 10, 12), e.OverdueWarningResolved), (date(2026, 10, 31), e.SettlementReleased)],
)
def test_a_void_closes_the_obligation_lifting_what_it_caused(book: PolicyBook, closed_until: date,
                                                             closes: type[e.OverdueWarningResolved | e.SettlementReleased]) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 10, 8), closed_until)
    applied, closed = stream.void(date(2026, 11, 2))
    assert isinstance(applied, e.VoidApplied) and isinstance(closed, closes)
    assert closed.reason == "voided" and closed.caused_by == ("invoice-voided-1",)
    assert stream.void(date(2026, 11, 2)) == []
    assert (io.status(stream.state), stream.state.outstanding, io.next_decision_on(stream.state)) == (io.Status.VOIDED, Decimal("0.00"), None)
    assert stream.close_each_day(date(2026, 11, 1), date(2026, 12, 31)) == []
    assert stream.credit("CN-1", "100.00", date(2026, 11, 3)) == []
