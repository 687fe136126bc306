"""Overdue warning and withheld settlement (预警 → 暂缓拨付, rule R2).

Guizhou 000 §五(三): "逾期不回款的给予预警，预警后10个工作日内仍不回款的，暂缓拨付定点
医疗机构医保费用，回款后恢复拨付" - an invoice not paid by its deadline is
overdue and the institution is warned; if it is still not fully paid within
10 working days after the warning, the institution's monthly insurance
settlement is withheld until it pays.

These functions are the only place this date arithmetic lives. They do not
know whether an invoice was paid: the caller checks that at the dates they
return.
"""

from __future__ import annotations

from datetime import date, timedelta

from jicai_policy.calendar import WorkingDayCalendar
from jicai_policy.deadlines import last_day_of_next_month
from jicai_policy.sections.payment import OverduePolicy, WarningSchedule


def first_overdue_day(deadline: date) -> date:
    """The first day an invoice not fully paid is overdue (逾期): the day after the deadline."""
    return deadline + timedelta(days=1)


def warning_date(deadline: date, policy: OverduePolicy, calendar: WorkingDayCalendar) -> date:
    """The day the institution is warned (预警) about an invoice unpaid at ``deadline``.

    * ``first_overdue_day``: the first overdue day itself (a calendar day,
      which may be a weekend or holiday).
    * ``monthly_monitoring`` (按月预警): ``monitoring_day_of_month`` of the
      month after the month of the first overdue day, moved to the next
      working day if it is a rest day.
    """
    overdue_from = first_overdue_day(deadline)
    if policy.warning_schedule is WarningSchedule.FIRST_OVERDUE_DAY:
        return overdue_from
    if policy.monitoring_day_of_month is None:  # excluded by OverduePolicy's validation
        raise ValueError("monthly_monitoring needs monitoring_day_of_month")
    monitoring_day = last_day_of_next_month(overdue_from).replace(day=policy.monitoring_day_of_month)
    return calendar.next_working_day_on_or_after(monitoring_day)


def grace_end_date(warned_on: date, policy: OverduePolicy, calendar: WorkingDayCalendar) -> date:
    """Last day of the grace period: the ``grace_working_days``-th working day after the warning.

    The warning day itself is not counted; make-up working days (调休上班)
    count, holidays and weekends do not. Paying in full by the end of this
    day avoids the withhold.

    Raises ``ValueError`` when the policy has ``withhold_enabled = false``:
    such a profile has no grace period and never withholds.
    """
    if not policy.withhold_enabled:
        raise ValueError(f"overdue policy ({policy.source}) has withhold_enabled = false: there is no withhold to schedule")
    return calendar.add_working_days(warned_on, policy.grace_working_days)


def withhold_date(warned_on: date, policy: OverduePolicy, calendar: WorkingDayCalendar) -> date:
    """The first day of withheld settlement (暂缓拨付) if the invoice is still not fully paid.

    The day after ``grace_end_date``: the withhold applies from then on when
    the invoice was not fully paid by the end of the grace period's last
    working day, and is lifted once it is paid (回款后恢复拨付).
    """
    return grace_end_date(warned_on, policy, calendar) + timedelta(days=1)
