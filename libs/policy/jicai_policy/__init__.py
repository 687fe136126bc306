"""Jicai policy: regional policy profiles and the pure date arithmetic of the rules.

* ``calendar``: China's working-day calendar (工作日, 调休): library plus calendar files;
* ``deadlines``: payment deadline (回款期限, R1) under the Civil Code arts. 201 and 203;
* ``overdue``: warning and withheld settlement (预警 → 暂缓拨付, R2);
* ``profiles`` (with its ``sections``), ``loading``, ``book``: versioned regional policy profiles, the region
  mapping and the ``PolicyBook`` that holds them with the calendar.

No I/O beyond reading the files it is pointed at.
"""

from jicai_policy.book import PolicyBook, load_policy_book
from jicai_policy.calendar import (
    LIBRARY_YEARS,
    CalendarFile,
    WorkingDayCalendar,
    YearCalendar,
    load_calendar,
    parse_calendar_text,
)
from jicai_policy.deadlines import payment_deadline
from jicai_policy.errors import (
    CalendarYearNotCovered,
    InvoiceDateRequired,
    NoProfileForRegion,
    PolicyError,
    PolicyFileError,
    UnknownProfile,
)
from jicai_policy.loading import RegionEntry, load_profile_file, parse_profile
from jicai_policy.overdue import (
    first_overdue_day,
    grace_end_date,
    warning_date,
    withhold_date,
)
from jicai_policy.profiles import PolicyProfile
from jicai_policy.sections.common import Basis
from jicai_policy.sections.fund import DirectSettlement, PaymentStandard, Prepayment, PrepaymentPhase, PrepaymentTrigger
from jicai_policy.sections.monitoring import Kpi, Kpis, ManufacturerReport
from jicai_policy.sections.payment import OverduePolicy, PaymentTerm, PaymentTermRule, WarningSchedule
from jicai_policy.sections.procurement import (
    Allocation,
    AllocationMethod,
    CycleByWinners,
    CycleRules,
    FilingPurchase,
    NonWinningCap,
    VolumeCompletion,
)

__all__ = [
    "LIBRARY_YEARS",
    "Allocation",
    "AllocationMethod",
    "Basis",
    "CalendarFile",
    "CalendarYearNotCovered",
    "CycleByWinners",
    "CycleRules",
    "DirectSettlement",
    "FilingPurchase",
    "InvoiceDateRequired",
    "Kpi",
    "Kpis",
    "ManufacturerReport",
    "NoProfileForRegion",
    "NonWinningCap",
    "OverduePolicy",
    "PaymentStandard",
    "PaymentTerm",
    "PaymentTermRule",
    "PolicyBook",
    "PolicyError",
    "PolicyFileError",
    "PolicyProfile",
    "Prepayment",
    "PrepaymentPhase",
    "PrepaymentTrigger",
    "RegionEntry",
    "UnknownProfile",
    "VolumeCompletion",
    "WarningSchedule",
    "WorkingDayCalendar",
    "YearCalendar",
    "first_overdue_day",
    "grace_end_date",
    "load_calendar",
    "load_policy_book",
    "load_profile_file",
    "parse_calendar_text",
    "parse_profile",
    "payment_deadline",
    "warning_date",
    "withhold_date",
]
