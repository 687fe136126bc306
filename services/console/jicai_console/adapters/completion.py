"""The province's volume completion (完成约定采购量) of a month, read from alerts: the month's ``volume_completion``
KPI per institution (``GET /kpis``) and each pooling region's R3 lines from its profile (``GET /policy/regions/{code}``),
so the bands follow every region's own notice rather than a number in the console."""
from __future__ import annotations

import asyncio
import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from jicai_console.adapters.platform import Caller
from jicai_console.domain.province import CompletionLines

INDICATOR = "volume_completion"


@dataclass(frozen=True)
class MonthCompletion:
    month: str
    rows: list[dict[str, Any]]
    """``GET /kpis?indicator=volume_completion`` rows: institution, pooling region, value (null: no target)."""
    lines: dict[str, CompletionLines | None]
    """Per pooling region of ``rows``: its profile's R3 lines on the month's last day (None: the profile has none)."""


def business_month(alerts_clock: dict[str, Any] | None, fallback: date) -> str:
    """The month of alerts' last closed business day (``GET /clock``): the figures shown are decided up to it."""
    closed = (alerts_clock or {}).get("last_closed_on")
    return str(closed)[:7] if closed else fallback.strftime("%Y-%m")


def _month_end(month: str) -> date:
    year, number = int(month[:4]), int(month[5:7])
    return date(year, number, calendar.monthrange(year, number)[1])


def _lines(policy: dict[str, Any] | None) -> CompletionLines | None:
    r3 = (policy or {}).get("volume_completion")
    return CompletionLines(Decimal(str(r3["warning_below"])), Decimal(str(r3["suspend_below"]))) if r3 else None


async def month_completion(api: Caller, month: str) -> MonthCompletion:
    rows: list[dict[str, Any]] = await api.get("alerts", "/kpis", month=month, indicator=INDICATOR)
    regions = sorted({str(r["pooling_region_code"]) for r in rows if r.get("pooling_region_code")})
    on = _month_end(month).isoformat()
    policies = await asyncio.gather(*(api.get_or(None, "alerts", f"/policy/regions/{code}", on=on) for code in regions))
    return MonthCompletion(month, rows, {code: _lines(p) for code, p in zip(regions, policies, strict=True)})
