"""Manufacturers' monthly report (生产、供应、库存、回款情况), Hubei 003 §五(二):
"中选生产企业每月5日前向省联采办报送上月的生产、供应、库存、回款等情况".

Stream ``manufacturer-{manufacturer_id}``. A month M is owed by a manufacturer
with a contract whose cycle overlaps M in a pooling region whose profile (in
force on M's last day) has ``manufacturer_report``; it is due on the profile's
``due_day_of_month`` of the next month (the earliest due day when two profiles
require it). The first ``DayClosed`` after the due day checks the month: no
report submitted on or before the due day → ``ManufacturerReportMissed``. A report
for the month arriving later closes it (``ManufacturerReportMissClosed``).

Only months from the region's go-live month on are checked (``manufacturer_report_from``
in ``regions.toml``; none: the region is not checked), and never months whose due
day the clock had passed when the contract became known (a platform learning of a
contract late does not blame the manufacturer for months it never watched); each
contract remembers the last closed day at the time it was tracked.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date

from jicai_alerts.domain.non_winning import month_end
from jicai_alerts.domain.volume_completion import ClosedDay
from jicai_alerts.domain.volume_periods import add_months
from jicai_events.domain_events import DomainEvent
from jicai_policy import PolicyProfile


class ManufacturerContractTracked(DomainEvent):
    """A contract (``ContractSigned``) of the manufacturer: its region and cycle."""

    name = "ManufacturerContractTracked"
    contract_id: str
    manufacturer_id: str
    pooling_region_code: str
    cycle_start: date
    cycle_end: date
    known_after: date | None
    """The last closed business day when the contract became known (months due by then are not checked)."""
    contract_event_id: str


class ManufacturerReportCounted(DomainEvent):
    """A monthly report (``ManufacturerReportSubmitted``) on ``month``."""

    name = "ManufacturerReportCounted"
    report_id: str
    manufacturer_id: str
    month: str
    submitted_on: date
    report_event_id: str


class ManufacturerMonthChecked(DomainEvent):
    """The month's due day passed (with or without a report): it is checked once."""

    name = "ManufacturerMonthChecked"
    manufacturer_id: str
    month: str
    due_on: date
    reported: bool


class ManufacturerReportMissed(DomainEvent):
    name = "ManufacturerReportMissed"
    decision_id: str
    manufacturer_id: str
    month: str
    due_on: date
    profile_id: str
    profile_version: int
    caused_by: tuple[str, ...]


class ManufacturerReportMissClosed(DomainEvent):
    name = "ManufacturerReportMissClosed"
    decision_id: str
    manufacturer_id: str
    month: str
    submitted_on: date
    report_event_id: str


ManufacturerEvent = (
    ManufacturerContractTracked | ManufacturerReportCounted | ManufacturerMonthChecked | ManufacturerReportMissed
    | ManufacturerReportMissClosed
)
MANUFACTURER_EVENTS: tuple[type[ManufacturerEvent], ...] = (
    ManufacturerContractTracked, ManufacturerReportCounted, ManufacturerMonthChecked, ManufacturerReportMissed,
    ManufacturerReportMissClosed,
)
Recorded = tuple[ManufacturerEvent, str]
ProfileFor = Callable[[str, date], PolicyProfile]
LiveFrom = Callable[[str, date], date | None]
"""(pooling region, day) → the platform's go-live of the check there (None: not checked)."""


@dataclass(frozen=True)
class ManufacturerState:
    manufacturer_id: str
    contracts: dict[str, ManufacturerContractTracked] = field(default_factory=dict)
    reports: dict[str, ManufacturerReportCounted] = field(default_factory=dict)
    """The first report per month (YYYY-MM)."""
    report_ids: frozenset[str] = frozenset()
    checked: frozenset[str] = frozenset()
    missed: dict[str, ManufacturerReportMissed] = field(default_factory=dict)
    closed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OwedMonth:
    month: str
    due_on: date
    profile: PolicyProfile
    contract_event_ids: tuple[str, ...]


def month_key(first: date) -> str:
    return first.strftime("%Y-%m")


def owed_months(state: ManufacturerState, profile_for: ProfileFor, until: date, live_from: LiveFrom | None = None) -> list[OwedMonth]:
    """Months not checked yet, from the region's go-live month on, whose due day is before ``until`` and after
    the contract became known, oldest first (``live_from`` None: live everywhere)."""
    owed: dict[str, OwedMonth] = {}
    for contract in sorted(state.contracts.values(), key=lambda c: c.contract_id):
        month = contract.cycle_start.replace(day=1)
        while month <= contract.cycle_end:
            key = month_key(month)
            since = live_from(contract.pooling_region_code, month_end(month)) if live_from else date.min
            if key not in state.checked and since is not None and month >= since.replace(day=1):
                profile = profile_for(contract.pooling_region_code, month_end(month))
                rule = profile.manufacturer_report
                due_on = add_months(month, 1).replace(day=rule.due_day_of_month) if rule else None
                known = contract.known_after or date.min
                if due_on is not None and known < due_on < until:
                    kept = owed.get(key)
                    if kept is None or due_on < kept.due_on:
                        owed[key] = OwedMonth(key, due_on, profile, (contract.contract_event_id,))
                    elif due_on == kept.due_on:
                        owed[key] = replace(kept, contract_event_ids=(*kept.contract_event_ids, contract.contract_event_id))
            if add_months(month, 1) > until:
                break
            month = add_months(month, 1)
    return [owed[k] for k in sorted(owed)]


def next_due_on(state: ManufacturerState, profile_for: ProfileFor, live_from: LiveFrom | None = None) -> date | None:
    """The due day of the next month to check (what the day close looks for)."""
    months = owed_months(state, profile_for, date.max, live_from)
    return min((m.due_on for m in months), default=None)


def fold(manufacturer_id: str, recorded: Iterable[Recorded]) -> ManufacturerState:
    state = ManufacturerState(manufacturer_id)
    for event, _ in recorded:
        if isinstance(event, ManufacturerContractTracked):
            state = replace(state, contracts={**state.contracts, event.contract_id: event})
        elif isinstance(event, ManufacturerReportCounted):
            reports = state.reports if event.month in state.reports else {**state.reports, event.month: event}
            state = replace(state, reports=reports, report_ids=state.report_ids | {event.report_id})
        elif isinstance(event, ManufacturerMonthChecked):
            state = replace(state, checked=state.checked | {event.month})
        elif isinstance(event, ManufacturerReportMissed):
            state = replace(state, missed={**state.missed, event.month: event})
        else:
            state = replace(state, closed=state.closed | {event.month})
    return state


def decide_on_contract(state: ManufacturerState, contract: ManufacturerContractTracked) -> list[ManufacturerEvent]:
    return [] if contract.contract_id in state.contracts else [contract]


def decide_on_report(state: ManufacturerState, report: ManufacturerReportCounted) -> list[ManufacturerEvent]:
    """Count the report once; a report on a missed month closes the miss."""
    if report.report_id in state.report_ids:
        return []
    new: list[ManufacturerEvent] = [report]
    missed = state.missed.get(report.month)
    if missed is not None and report.month not in state.closed:
        new.append(_closed(missed, report))
    return new


def decide_on_day_closed(
    state: ManufacturerState, day: ClosedDay, profile_for: ProfileFor, live_from: LiveFrom | None = None
) -> list[ManufacturerEvent]:
    """Check every month whose due day is before ``day``: missed when no report was submitted by the due day."""
    new: list[ManufacturerEvent] = []
    for owed in owed_months(state, profile_for, day.business_date, live_from):
        report = state.reports.get(owed.month)
        on_time = report is not None and report.submitted_on <= owed.due_on
        new.append(ManufacturerMonthChecked(manufacturer_id=state.manufacturer_id, month=owed.month, due_on=owed.due_on, reported=on_time))
        if on_time:
            continue
        missed = ManufacturerReportMissed(
            decision_id=f"manufacturer-report-{state.manufacturer_id}-{owed.month}", manufacturer_id=state.manufacturer_id,
            month=owed.month, due_on=owed.due_on, profile_id=owed.profile.profile_id, profile_version=owed.profile.version,
            caused_by=(day.event_id, *owed.contract_event_ids),
        )
        new.append(missed)
        if report is not None:  # it came, but late: the miss is closed by it at once
            new.append(_closed(missed, report))
    return new


def _closed(missed: ManufacturerReportMissed, report: ManufacturerReportCounted) -> ManufacturerReportMissClosed:
    return ManufacturerReportMissClosed(
        decision_id=missed.decision_id, manufacturer_id=missed.manufacturer_id, month=missed.month,
        submitted_on=report.submitted_on, report_event_id=report.report_event_id,
    )
