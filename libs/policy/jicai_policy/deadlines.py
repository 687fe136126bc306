"""Payment deadline (回款期限, rule R1), counted as the Civil Code says.

Civil Code of the PRC (《中华人民共和国民法典》):

* art. 201: a period counted in days starts the day after the event; the day
  of the event itself is not counted (开始的当日不计入，自下一日开始计算).
  "30 days from acceptance on 1 March" therefore ends on 31 March.
* art. 203: when the last day of a period is a statutory rest day
  (法定休假日: a weekend or public holiday per the State Council schedule), the
  period ends on the first working day after it. A make-up working day
  (调休上班) on a weekend is a working day, so a period ending on it stays.

``end_of_month_after_acceptance`` (Liangjiang: 次月底) is a fixed date rather
than a count of days; the same art. 203 adjustment applies to it.
"""

from __future__ import annotations

import calendar as gregorian
from datetime import date, timedelta

from jicai_policy.calendar import WorkingDayCalendar
from jicai_policy.errors import InvoiceDateRequired
from jicai_policy.sections.payment import PaymentTerm, PaymentTermRule


def civil_code_period_end(start: date, days: int, calendar: WorkingDayCalendar) -> date:
    """Last day of a period of ``days`` days counted from the event on ``start``.

    The start day is not counted (art. 201); an end on a rest day moves to the
    next working day (art. 203).
    """
    if days < 0:
        raise ValueError(f"a period cannot have negative length, got {days} days")
    return calendar.next_working_day_on_or_after(start + timedelta(days=days))


def last_day_of_next_month(day: date) -> date:
    """The last day of the month after ``day``'s month (次月底); December goes to January 31."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, gregorian.monthrange(year, month)[1])


def payment_clock_start(term: PaymentTerm, acceptance_date: date, invoice_received_date: date | None) -> date:
    """The event the payment period counts from under ``term``.

    For ``later_of_acceptance_and_invoice_plus_days`` this is the later of the
    acceptance date (验收合格) and the invoice receipt date (收到发票); without
    an invoice receipt date the clock has not started and
    ``InvoiceDateRequired`` is raised. The other rules count from acceptance.
    """
    if term.rule is PaymentTermRule.LATER_OF_ACCEPTANCE_AND_INVOICE_PLUS_DAYS:
        if invoice_received_date is None:
            raise InvoiceDateRequired(term.rule.value)
        return max(acceptance_date, invoice_received_date)
    return acceptance_date


def payment_deadline(
    term: PaymentTerm,
    acceptance_date: date,
    invoice_received_date: date | None,
    calendar: WorkingDayCalendar,
) -> date:
    """The last day on which paying the whole invoice is on time (回款期限).

    Paying on the returned date is on time; the day after it is the first
    overdue day. ``invoice_received_date`` is only needed by rules that count
    from it.
    """
    start = payment_clock_start(term, acceptance_date, invoice_received_date)
    if term.rule is PaymentTermRule.END_OF_MONTH_AFTER_ACCEPTANCE:
        return calendar.next_working_day_on_or_after(last_day_of_next_month(start))
    if term.days is None:  # excluded by PaymentTerm's validation
        raise ValueError(f"payment rule {term.rule.value!r} needs 'days'")
    return civil_code_period_end(start, term.days, calendar)
