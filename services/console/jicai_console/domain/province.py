"""The province overview's figures, computed from what the services answered (pure functions)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from jicai_console.domain.feed import FeedEntry

OVERDUE_STATUSES = frozenset({"overdue", "withheld"})
WARNING_KINDS = frozenset({"overdue_warning", "volume_warning"})


@dataclass(frozen=True)
class RegionOverdue:
    pooling_region_code: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class Week:
    monday: date
    opened: int
    closed: int


def overdue_by_region(invoices: list[dict[str, Any]]) -> list[RegionOverdue]:
    """Invoices past their deadline and not paid in full (overdue, withheld), per pooling region: count and outstanding."""
    count: dict[str, int] = defaultdict(int)
    amount: dict[str, Decimal] = defaultdict(Decimal)
    for invoice in invoices:
        if invoice["status"] in OVERDUE_STATUSES:
            region = invoice["pooling_region_code"]
            count[region] += 1
            amount[region] += Decimal(str(invoice["outstanding"]))
    return [RegionOverdue(r, count[r], amount[r]) for r in sorted(count)]


def overdue_invoices(invoices: list[dict[str, Any]], region: str | None = None) -> list[dict[str, Any]]:
    return [i for i in invoices if i["status"] in OVERDUE_STATUSES and (region is None or i["pooling_region_code"] == region)]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def warnings_per_week(entries: list[FeedEntry], weeks: int = 12) -> list[Week]:
    """Warnings opened and closed per ISO week, the last ``weeks`` weeks up to the latest one with either."""
    warnings = [e for e in entries if e.kind in WARNING_KINDS]
    dates = [e.since for e in warnings] + [e.closed_on for e in warnings if e.closed_on]
    if not dates:
        return []
    last = _monday(max(dates))
    mondays = [last - timedelta(weeks=n) for n in reversed(range(weeks))]
    opened: dict[date, int] = defaultdict(int)
    closed: dict[date, int] = defaultdict(int)
    for e in warnings:
        opened[_monday(e.since)] += 1
        if e.closed_on:
            closed[_monday(e.closed_on)] += 1
    return [Week(m, opened[m], closed[m]) for m in mondays]


def institutions_with_open(entries: list[FeedEntry], kind: str) -> list[str]:
    return sorted({e.institution_id for e in entries if e.kind == kind and e.status == "open"})


BANDS = ("band_suspend", "band_warning", "band_met", "band_no_target", "band_no_lines")
"""Completion bands, lowest first (catalog keys): below the profile's suspension line, below its warning line, at or
above it, no target yet (no agreed volume due), and a region whose profile has no R3 lines to measure against."""


@dataclass(frozen=True)
class CompletionLines:
    """A region's R3 lines from its profile (``GET /policy/regions/{code}``: ``volume_completion``)."""

    warning_below: Decimal
    suspend_below: Decimal


@dataclass(frozen=True)
class RegionCompletion:
    pooling_region_code: str
    lines: CompletionLines | None
    counts: dict[str, int]  # band → institutions, every band present


def completion_band(value: Decimal | None, lines: CompletionLines | None) -> str:
    if lines is None:
        return "band_no_lines"
    if value is None:
        return "band_no_target"
    if value < lines.suspend_below:
        return "band_suspend"
    return "band_warning" if value < lines.warning_below else "band_met"


def _value(row: dict[str, Any]) -> Decimal | None:
    return None if row.get("value") is None else Decimal(str(row["value"]))


def completion_by_band(
    rows: list[dict[str, Any]], lines: dict[str, CompletionLines | None], region: str | None = None, band: str | None = None,
) -> list[dict[str, Any]]:
    """The ranked ``volume_completion`` rows (``GET /kpis``) with their ``band``, narrowed to a region and a band."""
    out = []
    for row in rows:
        code = row.get("pooling_region_code") or ""  # "": an institution the KPI could place in no region
        row_band = completion_band(_value(row), lines.get(code))
        if (region is None or code == region) and (band is None or row_band == band):
            out.append({**row, "band": row_band})
    return out


def completion_distribution(rows: list[dict[str, Any]], lines: dict[str, CompletionLines | None]) -> list[RegionCompletion]:
    """Institutions per completion band per pooling region, from the month's ``volume_completion`` KPI rows."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(BANDS, 0))
    for row in completion_by_band(rows, lines):
        counts[row.get("pooling_region_code") or ""][row["band"]] += 1
    return [RegionCompletion(code, lines.get(code), counts[code]) for code in sorted(counts)]


def warnings_of_week(entries: list[FeedEntry], monday: date, event: str) -> list[FeedEntry]:
    """The warnings opened (``event="opened"``) or closed (``"closed"``) in the ISO week starting ``monday``."""
    def day(e: FeedEntry) -> date | None:
        return e.since if event == "opened" else e.closed_on

    return [e for e in entries if e.kind in WARNING_KINDS and (d := day(e)) is not None and _monday(d) == monday]
