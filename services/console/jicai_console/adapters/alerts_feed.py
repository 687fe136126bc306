"""Every alert and decision of an institution, and the province's, read from the alerts service.

The one module that knows where alerts come from: today three endpoints per institution (payment alerts with
the closed ones, volume completion, filing warnings); once the alerts service serves the unified feed
(``GET /alerts``, ``GET /institutions/{id}/alerts`` with every rule), ``UNIFIED`` is switched on here.
"""
from __future__ import annotations

import asyncio
from typing import Any

from jicai_console.adapters.platform import Caller
from jicai_console.domain import feed
from jicai_console.domain.feed import FeedEntry

UNIFIED = False
"""True once ``/institutions/{id}/alerts`` lists every rule's decisions (the alerts feed)."""


async def institution_feed(caller: Caller, institution_id: str) -> list[FeedEntry]:
    if UNIFIED:
        return feed.ordered(feed.from_unified(await caller.get("alerts", f"/institutions/{institution_id}/alerts", include_closed="true")))
    payment, volume, filing = await asyncio.gather(
        caller.get("alerts", f"/institutions/{institution_id}/alerts", include_closed="true"),
        caller.get_or({}, "alerts", f"/institutions/{institution_id}/volume-completion"),
        caller.get_or([], "alerts", f"/institutions/{institution_id}/filing-warnings"),
    )
    entries = feed.from_payment_alerts(payment) + feed.from_filing_warnings(institution_id, filing)
    if volume:
        entries += feed.from_volume_completion(volume)
    return feed.ordered(entries)


async def province_feed(caller: Caller, institution_ids: list[str]) -> list[FeedEntry]:
    if UNIFIED:
        return feed.ordered(feed.from_unified(await caller.get("alerts", "/alerts")))
    per_institution = await asyncio.gather(*(institution_feed(caller, i) for i in institution_ids))
    return feed.ordered([e for entries in per_institution for e in entries])


async def blocked_decisions(caller: Caller) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await caller.get("alerts", "/blocked-decisions")
    return result


async def decision(caller: Caller, decision_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await caller.get("alerts", f"/decisions/{decision_id}")
    return result
