"""The status "as of" a past date is the live fold of each invoice stream over the events dated by then (红冲 included).

Real 2026 dates (see test_invoice_obligation, test_red_letter_obligation): accepted 09-01, received 09-05 → deadline
Thu 10-08, warned Fri 10-09, withheld from Fri 10-23 (Guizhou 000 §五(三)). A credit note received Fri 09-25 restarts
the Guizhou clock → deadline Mon 10-26, warned Tue 10-27; Hubei 003 §四(三) counts from acceptance only.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from jicai_alerts.domain import as_of as a
from jicai_policy import PolicyBook
from tests.unit.alerts.test_invoice_obligation import book
from tests.unit.alerts.test_red_letter_obligation import WUHAN, RedLetterStream

__all__ = ["book"]

RECORDED = date(2026, 12, 31)
"""When the store recorded every event: later than every as-of date asked, so only business dates decide."""

Owed = tuple[str, str, str, str, bool]
"""(outstanding, credited, paid, deadline, overdue) of the one invoice, as a user reads it."""


def as_of(stream: RedLetterStream, day: str) -> a.Status:
    dated = [a.Dated(event, event_id, RECORDED) for event, event_id in stream.recorded]
    return a.status(date.fromisoformat(day), "H001", [dated], [])


def owed(status: a.Status) -> list[Owed]:
    return [(str(i.outstanding), str(i.credited), str(i.paid), str(i.deadline), i.overdue) for i in status.invoices]


def open_decisions(status: a.Status) -> tuple[list[str], list[str]]:
    return [w.decision_id for w in status.warnings], [w.decision_id for w in status.withholds]


@pytest.fixture
def credited_and_restarted(book: PolicyBook) -> RedLetterStream:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.credit("CN-1", "2000.00", date(2026, 9, 25))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 31))
    return stream


@pytest.mark.parametrize(
    ("day", "invoices", "warnings"),
    [
        pytest.param("2026-09-04", [], [], id="before the invoice was received"),
        pytest.param("2026-09-24", [("10000.00", "0.00", "0.00", "2026-10-08", False)], [], id="the day before the credit note"),
        pytest.param("2026-09-25", [("8000.00", "2000.00", "0.00", "2026-10-26", False)], [], id="credited, the clock restarted"),
        pytest.param("2026-10-09", [("8000.00", "2000.00", "0.00", "2026-10-26", False)], [], id="not overdue after the old deadline"),
        pytest.param("2026-10-27", [("8000.00", "2000.00", "0.00", "2026-10-26", True)], ["warning-INV-1:r2"], id="warned after the new one"),
    ],
)
def test_guizhou_a_credit_note_counts_from_its_receipt_with_the_deadline_it_restarted(
    credited_and_restarted: RedLetterStream, day: str, invoices: list[Owed], warnings: list[str]
) -> None:
    status = as_of(credited_and_restarted, day)
    assert owed(status) == invoices
    assert open_decisions(status) == (warnings, [])


def test_hubei_a_credit_note_reduces_what_is_owed_but_the_acceptance_deadline_stands(book: PolicyBook) -> None:
    stream = RedLetterStream(book, WUHAN)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.credit("CN-1", "2000.00", date(2026, 9, 25))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 31))

    assert owed(as_of(stream, "2026-10-08")) == [("8000.00", "2000.00", "0.00", "2026-10-08", False)]
    late = as_of(stream, "2026-10-09")
    assert owed(late) == [("8000.00", "2000.00", "0.00", "2026-10-08", True)]
    assert open_decisions(late) == (["warning-INV-1"], [])  # Hubei 003 warns, never withholds
    assert [(w.outstanding_amount, w.profile_id) for w in late.warnings] == [(Decimal("8000.00"), "hubei-2019")]


@pytest.mark.parametrize(
    ("day", "invoices", "decisions"),
    [
        pytest.param("2026-10-22", [("10000.00", "0.00", "0.00", "2026-10-08", True)], (["warning-INV-1"], []), id="warned"),
        pytest.param(
            "2026-11-01", [("10000.00", "0.00", "0.00", "2026-10-08", True)], (["warning-INV-1"], ["withhold-INV-1"]), id="withheld"
        ),
        pytest.param("2026-11-02", [], ([], []), id="voided on 11-02: nothing owed, the withhold lifted"),
        pytest.param("2026-12-01", [], ([], []), id="and after"),
    ],
)
def test_a_voided_invoice_is_owed_until_the_void_and_never_after(
    book: PolicyBook, day: str, invoices: list[Owed], decisions: tuple[list[str], list[str]]
) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 31))
    stream.void(date(2026, 11, 2))
    stream.close_each_day(date(2026, 11, 1), date(2026, 11, 30))

    status = as_of(stream, day)
    assert owed(status) == invoices
    assert open_decisions(status) == decisions
    assert status.outstanding == sum((Decimal(i[0]) for i in invoices), Decimal("0.00"))


def test_an_invoice_voided_before_its_deadline_is_never_overdue(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.void(date(2026, 9, 10))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 31))

    assert owed(as_of(stream, "2026-09-09")) == [("10000.00", "0.00", "0.00", "2026-10-08", False)]
    for day in ("2026-09-10", "2026-10-09", "2026-10-23"):
        assert (owed(as_of(stream, day)), open_decisions(as_of(stream, day))) == ([], ([], []))


def test_a_payment_and_a_credit_note_leaving_nothing_owed_lift_the_withhold_from_the_credit_notes_receipt(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.pay("P1", "7000.00", date(2026, 10, 20))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 31))
    stream.credit("CN-1", "3000.00", date(2026, 11, 3))

    before = as_of(stream, "2026-11-02")
    assert owed(before) == [("3000.00", "0.00", "7000.00", "2026-10-08", True)]
    assert open_decisions(before) == (["warning-INV-1"], ["withhold-INV-1"])
    assert [(w.since, w.outstanding_amount) for w in before.withholds] == [(date(2026, 10, 23), Decimal("3000.00"))]
    after = as_of(stream, "2026-11-03")
    assert (owed(after), open_decisions(after)) == ([], ([], []))


def test_a_credit_note_recorded_after_the_warning_it_would_have_prevented_counts_by_its_receipt(book: PolicyBook) -> None:
    stream = RedLetterStream(book)
    stream.receive(date(2026, 9, 1), date(2026, 9, 5))
    stream.close_each_day(date(2026, 9, 5), date(2026, 10, 12))  # warned 10-09
    stream.credit("CN-1", "500.00", date(2026, 10, 12))  # restarts: deadline 11-11 lies ahead, the warning is closed

    assert open_decisions(as_of(stream, "2026-10-11")) == (["warning-INV-1"], [])
    restarted = as_of(stream, "2026-10-12")
    assert owed(restarted) == [("9500.00", "500.00", "0.00", "2026-11-11", False)]
    assert open_decisions(restarted) == ([], [])
