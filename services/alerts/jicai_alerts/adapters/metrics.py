"""Prometheus gauges of what is open in alerts, counted from the database when ``/metrics`` is scraped.

Counting after every event cost four ``COUNT(*)`` per event; a scrape every few seconds costs one
statement, and shows what every consumer process committed (the database is the truth, not the
process that handled the last event).
"""
from __future__ import annotations

import logging
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import ColumnElement, FromClause, ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t
from jicai_kit.runtime import ServiceRuntime

log = logging.getLogger(__name__)

ALERT_KINDS = ("overdue_warning", "settlement_withheld")
OPEN_ALERTS = Gauge("jicai_open_alerts", "Alerts currently open: overdue warnings and withheld settlements", ["kind"])
BLOCKED_DECISIONS = Gauge(
    "jicai_blocked_decisions", "Invoices whose next decision the rules cannot take yet (e.g. holiday calendar missing for a year)"
)
SUSPENDED_INSTITUTIONS = Gauge(
    "jicai_suspended_institutions", "Institutions whose monthly settlement is suspended for missing agreed volumes (R3)"
)
OVERDUE_AMOUNT = Gauge(
    "jicai_overdue_amount_yuan", "Outstanding yuan of the invoices past their payment deadline (overdue or withheld), all institutions"
)
NON_WINNING_CAP_EXCEEDED = Gauge(
    "jicai_non_winning_cap_exceeded",
    "Institution × generic group × month decisions (R4): non-winning base units above the cap of the winning ones",
)

DAY_CLOSE_DECIDED = Counter(
    "jicai_day_close_invoices_decided",
    "Invoices of day closes this process decided in committed chunks: as the close's opener, or taking its share of a "
    "close another instance opened",
    ["role"],
)


def _count(table: FromClause, *conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    return select(func.count()).select_from(table).where(*conditions).scalar_subquery()


OVERDUE_STATUSES = ("overdue", "withheld")


async def counts(session: AsyncSession) -> dict[str, Any]:
    """Every gauge's count in one statement."""
    a, vi, nm, inv = t.alerts, t.volume_institutions, t.non_winning_months, t.invoices
    columns = {
        **{kind: _count(a, a.c.closed_on.is_(None), a.c.kind == kind) for kind in ALERT_KINDS},
        "blocked": _count(t.blocked_decisions),
        "suspended": _count(vi, vi.c.suspension_decision_id.is_not(None)),
        "non_winning": _count(nm, nm.c.decision_id.is_not(None)),
        "overdue_amount": select(func.coalesce(func.sum(inv.c.outstanding), 0)).where(inv.c.status.in_(OVERDUE_STATUSES)).scalar_subquery(),
    }
    row = (await session.execute(select(*(c.label(name) for name, c in columns.items())))).one()
    return dict(row._mapping)


async def before_scrape(runtime: ServiceRuntime) -> None:
    """Set the gauges from the database; when it cannot answer, the scrape shows the last counts."""
    try:
        async with runtime.unit_of_work() as uow:
            n = await counts(uow.session)
    except Exception:  # noqa: BLE001 - a scrape must not fail with the database: the other metrics still count
        log.warning("alerts gauges not refreshed: the database did not answer", exc_info=True)
        return
    for kind in ALERT_KINDS:
        OPEN_ALERTS.labels(kind=kind).set(n[kind])
    BLOCKED_DECISIONS.set(n["blocked"])
    SUSPENDED_INSTITUTIONS.set(n["suspended"])
    NON_WINNING_CAP_EXCEEDED.set(n["non_winning"])
    OVERDUE_AMOUNT.set(float(n["overdue_amount"]))
