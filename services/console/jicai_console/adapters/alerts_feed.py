"""Every alert and decision of an institution, and the province's, read from the alerts service's feed.

The one module that knows where alerts come from: ``GET /institutions/{id}/alerts`` (a list, every rule) and the
province's ``GET /alerts`` (pages of at most ``PAGE`` items, read to the end).
"""
from __future__ import annotations

from typing import Any

from jicai_console.adapters.platform import Caller
from jicai_console.domain import feed
from jicai_console.domain.feed import FeedEntry

PAGE = 500
"""The largest page ``GET /alerts`` serves."""


async def institution_feed(caller: Caller, institution_id: str) -> list[FeedEntry]:
    return feed.ordered(feed.from_unified(await caller.get("alerts", f"/institutions/{institution_id}/alerts", include_closed="true")))


async def province_feed(caller: Caller) -> list[FeedEntry]:
    items: list[dict[str, Any]] = []
    while True:
        page = await caller.get("alerts", "/alerts", limit=PAGE, offset=len(items))
        items += page["items"]
        if not page["items"] or len(items) >= page["total"]:
            return feed.ordered(feed.from_unified(items))


async def blocked_decisions(caller: Caller) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = await caller.get("alerts", "/blocked-decisions")
    return result


async def decision(caller: Caller, decision_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await caller.get("alerts", f"/decisions/{decision_id}")
    return result
