"""One shape for every alert and decision of every rule, read from the alerts service's feed.

``GET /institutions/{id}/alerts`` and ``GET /alerts`` list every decision that stays in force until something closes
it, of every rule (R2 warnings and withholds, R3 warnings and suspensions, R4, R7, manufacturers' missing reports);
``from_unified`` turns their items into ``FeedEntry``. Readers tolerate unknown fields and kinds.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

RULE_OF_KIND = {
    "overdue_warning": "R2", "settlement_withheld": "R2", "volume_warning": "R3", "settlement_suspended": "R3",
    "non_winning_cap_exceeded": "R4", "filing_warning_line_exceeded": "R7", "manufacturer_report_missed": "manufacturer_report",
}
"""The rule column: which rule of the notices a kind of decision applies (the feed's ``kind`` names it)."""


@dataclass(frozen=True)
class FeedEntry:
    decision_id: str  # explained by GET /decisions/{id}
    kind: str  # overdue_warning | settlement_withheld | volume_warning | settlement_suspended | non_winning_cap_exceeded | …
    rule: str  # R2, R3, R4, R7
    institution_id: str  # the manufacturer's id for a manufacturer's missing report
    subject: str  # the invoice, period end, group and month, or year decided about
    since: date
    status: str  # open | closed
    closed_on: date | None = None
    amount: str | None = None  # R2: what was still owed when it was decided
    summary: str = ""


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def from_unified(rows: list[dict[str, Any]]) -> list[FeedEntry]:
    """The feed's items (``alert_id``, ``kind``, ``status``, ``opened_on``, ``closed_on``, ``subject``, ``summary``…)."""
    return [
        FeedEntry(
            decision_id=r["alert_id"], kind=r["kind"], rule=RULE_OF_KIND.get(r["kind"], ""),
            institution_id=r.get("institution_id") or r.get("manufacturer_id") or "", subject=str(r.get("subject") or ""),
            since=_date(r["opened_on"]), status=r["status"], closed_on=_date(r["closed_on"]) if r.get("closed_on") else None,
            amount=str(r["outstanding_amount"]) if r.get("outstanding_amount") is not None else None, summary=r.get("summary") or "",
        )
        for r in rows
    ]


def ordered(entries: list[FeedEntry]) -> list[FeedEntry]:
    return sorted(entries, key=lambda e: (e.since, e.decision_id))
