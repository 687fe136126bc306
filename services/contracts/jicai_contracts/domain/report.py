"""Manufacturers' monthly report (生产、供应、库存、回款), Hubei 003 §五(二): 每月5日前报送上月的情况.

One report per manufacturer and month, on a month that has ended, submitted
on a day that has come. The same report again records nothing; a different
one for the same month is refused (a correction is not a resubmission).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from jicai_contracts.domain.errors import AlreadyExists, DomainRuleViolated
from jicai_contracts.domain.events import ID_LENGTH, ContractsEvent, ManufacturerReportSubmitted


def report_id(manufacturer_id: str, month: str) -> str:
    return f"{manufacturer_id}-{month}"


def submit(history: Sequence[ContractsEvent], report: ManufacturerReportSubmitted, today: date) -> list[ContractsEvent]:
    """Decide: record ``report`` as of ``today`` (the business date in Asia/Shanghai)."""
    if history:
        if history[0] == report:
            return []
        raise AlreadyExists(f"{report.manufacturer_id} has reported on {report.month} already with other figures")
    if report.month >= today.strftime("%Y-%m"):
        raise DomainRuleViolated("month", f"must be a month that has ended; today is {today}")
    if report.submitted_on > today:
        raise DomainRuleViolated("submitted_on", f"must not be after today ({today})")
    if report.submitted_on.strftime("%Y-%m") <= report.month:
        raise DomainRuleViolated("submitted_on", f"must be after the month {report.month} it reports on")
    if len(report.report_id) > ID_LENGTH:
        raise DomainRuleViolated("manufacturer_id", f"is too long to name a monthly report ({report.report_id})")
    return [report]
