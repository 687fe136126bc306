"""One shape for every alert and decision of every rule, whichever endpoint it was read from.

The alerts service lists payment warnings and withholds (R1/R2) at ``/institutions/{id}/alerts``, volume
decisions (R3) inside ``/institutions/{id}/volume-completion`` and filing-line warnings (R7) at
``/institutions/{id}/filing-warnings``; these functions turn each into a ``FeedEntry``. When the unified feed
(``GET /institutions/{id}/alerts`` listing every rule) is served, ``adapters.alerts_feed`` reads it instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class FeedEntry:
    decision_id: str  # explained by GET /decisions/{id}
    kind: str  # overdue_warning | settlement_withheld | volume_warning | settlement_suspended | settlement_resumed | filing_warning
    rule: str  # R2, R3, R7
    institution_id: str
    subject: str  # the invoice, period end or year decided about
    since: date
    status: str  # open | closed
    closed_on: date | None = None
    amount: str | None = None


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def from_payment_alerts(rows: list[dict[str, Any]]) -> list[FeedEntry]:
    return [
        FeedEntry(
            decision_id=r["alert_id"], kind=r["kind"], rule="R2", institution_id=r["institution_id"], subject=r["invoice_id"],
            since=_date(r["since"]), status=r["status"], closed_on=_date(r["closed_on"]) if r.get("closed_on") else None,
            amount=str(r["outstanding_amount"]),
        )
        for r in rows
    ]


def from_volume_completion(view: dict[str, Any]) -> list[FeedEntry]:
    """R3: a warning is a fact of its period (closed at once); a suspension stays open until a resumption names it."""
    institution = view["institution_id"]
    decisions = [d for p in view.get("periods", []) for d in p.get("decisions", [])]
    resumed = sorted(_date(d["effective_on"]) for d in decisions if d["kind"] == "settlement_resumed")
    out = []
    for d in decisions:
        effective = _date(d["effective_on"])
        if d["kind"] == "settlement_suspended":
            open_now = d["decision_id"] == view.get("suspension_decision_id")
            closed = None if open_now else next((r for r in resumed if r >= effective), None)
            status = "open" if open_now else "closed"
        else:
            closed, status = effective, "closed"
        out.append(FeedEntry(
            decision_id=d["decision_id"], kind=d["kind"], rule="R3", institution_id=institution, subject=str(d["effective_on"]),
            since=effective, status=status, closed_on=closed, amount=None,
        ))
    return out


def from_filing_warnings(institution_id: str, rows: list[dict[str, Any]]) -> list[FeedEntry]:
    return [
        FeedEntry(
            decision_id=r["decision_id"], kind="filing_warning", rule="R7", institution_id=institution_id, subject=str(r["year"]),
            since=_date(r["exceeded_on"]), status="open", amount=str(r["filing_amount"]),
        )
        for r in rows
    ]


def from_unified(rows: list[dict[str, Any]]) -> list[FeedEntry]:
    """The unified feed's entries (tolerant: fields it adds later are ignored)."""
    return [
        FeedEntry(
            decision_id=r["decision_id"], kind=r["kind"], rule=r.get("rule", ""), institution_id=r["institution_id"],
            subject=str(r.get("subject") or r.get("invoice_id") or ""), since=_date(r.get("since") or r["effective_on"]),
            status=r.get("status", "open"), closed_on=_date(r["closed_on"]) if r.get("closed_on") else None,
            amount=str(r["amount"]) if r.get("amount") is not None else None,
        )
        for r in rows
    ]


def ordered(entries: list[FeedEntry]) -> list[FeedEntry]:
    return sorted(entries, key=lambda e: (e.since, e.decision_id))
