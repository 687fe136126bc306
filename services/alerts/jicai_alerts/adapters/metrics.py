"""Prometheus gauge of the alerts currently open, set after each committed change."""
from __future__ import annotations

from typing import Any

from prometheus_client import Gauge
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_alerts.adapters import tables as t

ALERT_KINDS = ("overdue_warning", "settlement_withheld")
OPEN_ALERTS = Gauge("jicai_open_alerts", "Alerts currently open: overdue warnings and withheld settlements", ["kind"])
BLOCKED_DECISIONS = Gauge(
    "jicai_blocked_decisions", "Invoices whose next decision the rules cannot take yet (e.g. holiday calendar missing for a year)"
)
SUSPENDED_INSTITUTIONS = Gauge(
    "jicai_suspended_institutions", "Institutions whose monthly settlement is suspended for missing agreed volumes (R3)"
)

NON_WINNING_CAP_EXCEEDED = Gauge(
    "jicai_non_winning_cap_exceeded",
    "Institution × generic group × month decisions (R4): non-winning base units above the cap of the winning ones",
)


async def non_winning_exceeded_count(session: AsyncSession) -> int:
    nm = t.non_winning_months
    return int(
        (await session.execute(select(func.count()).select_from(nm).where(nm.c.decision_id.is_not(None)))).scalar_one()
    )


async def suspended_count(session: AsyncSession) -> int:
    vi = t.volume_institutions
    return int(
        (await session.execute(select(func.count()).select_from(vi).where(vi.c.suspension_decision_id.is_not(None)))).scalar_one()
    )


async def open_alert_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(t.alerts.c.kind, func.count()).where(t.alerts.c.closed_on.is_(None)).group_by(t.alerts.c.kind)
    )
    counts = {kind: 0 for kind in ALERT_KINDS}
    counts.update({kind: int(n) for kind, n in rows})
    return counts


def set_open_alerts(counts: dict[str, int]) -> None:
    for kind, n in counts.items():
        OPEN_ALERTS.labels(kind=kind).set(n)


async def blocked_count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(t.blocked_decisions))).scalar_one())


async def refresh_after_commit(session: AsyncSession) -> None:
    """Count inside the transaction (own changes included); show the counts once it commits."""
    counts = await open_alert_counts(session)
    blocked = await blocked_count(session)
    suspended = await suspended_count(session)
    non_winning = await non_winning_exceeded_count(session)

    def _on_commit(_session: Any) -> None:
        set_open_alerts(counts)
        BLOCKED_DECISIONS.set(blocked)
        SUSPENDED_INSTITUTIONS.set(suspended)
        NON_WINNING_CAP_EXCEEDED.set(non_winning)

    event.listen(session.sync_session, "after_commit", _on_commit, once=True)
