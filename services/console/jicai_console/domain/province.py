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
