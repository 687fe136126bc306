"""The alerts feed: every decision of every rule that stays in force for a while, read in one query.

The feed is a ``UNION ALL`` over the per-rule read models, built here rather than kept in a table of its own:
the handlers (which other work is making set-based for throughput) write nothing more for it, it can never
drift from the rule tables (nor miss a ``--rebuild-read-models``), and, unlike a database view, it pins no
column type of the tables it reads. PostgreSQL pushes the filters into each branch, where the per-rule tables'
``institution_id`` indexes serve an institution's feed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Date, Numeric, String, case, cast, func, literal, null, select, union_all
from sqlalchemy.sql import Subquery

from jicai_alerts.adapters import tables as t
from jicai_alerts.domain.alert_kinds import AlertKind, AlertStatus
from jicai_events.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class FeedFilter:
    institution_id: str | None = None
    manufacturer_id: str | None = None
    pooling_region_code: str | None = None
    kind: AlertKind | None = None
    status: AlertStatus | None = None


def _text(value: str | None = None) -> ColumnElement[str]:
    return literal(value, String) if value is not None else cast(null(), String)


def _number() -> ColumnElement[Decimal]:
    return cast(null(), Numeric)


def _day() -> ColumnElement[date]:
    return cast(null(), Date)


def _month_end(month: ColumnElement[date], months_later: int) -> ColumnElement[date]:
    """The last day of the month ``months_later`` after the one starting on ``month``."""
    return cast(month + func.make_interval(0, months_later + 1) - func.make_interval(0, 0, 0, 1), Date)


def feed() -> Subquery:
    """Columns: decision_id, kind, institution_id, manufacturer_id, pooling_region_code, invoice_id, subject (what it
    is about: invoice, period end, group and month, year, report month), opened_on, closed_on, closed_by, deadline,
    amount (outstanding or filing amount), ratio, threshold (the line it crossed, where the table keeps it), profile."""
    a, inv = t.alerts, t.invoices
    payment = select(
        a.c.alert_id.label("decision_id"), a.c.kind, a.c.institution_id, _text().label("manufacturer_id"),
        inv.c.pooling_region_code, a.c.invoice_id, a.c.invoice_id.label("subject"), a.c.since.label("opened_on"),
        a.c.closed_on, a.c.closed_by, a.c.deadline, a.c.outstanding_amount.label("amount"), _number().label("ratio"),
        _number().label("threshold"), a.c.profile_id, a.c.profile_version,
    ).select_from(a.outerjoin(inv, inv.c.invoice_id == a.c.invoice_id))

    d, vi, vp = t.volume_decisions, t.volume_institutions, t.volume_periods
    # a resumption's id repeats its suspension's key (volume-suspension-K → volume-resumption-K, volume_completion._resumed)
    resumption = t.volume_decisions.alias("resumption")
    next_period = (
        select(func.min(vp.c.period_end)).where(vp.c.institution_id == d.c.institution_id, vp.c.period_end > d.c.period_end)
        .scalar_subquery()
    )
    is_warning = d.c.kind == AlertKind.VOLUME_WARNING.value
    volume = select(
        d.c.decision_id, d.c.kind, d.c.institution_id, _text(), vi.c.pooling_region_code, _text(),
        cast(d.c.period_end, String), d.c.effective_on,
        case((is_warning, next_period), else_=resumption.c.effective_on),
        resumption.c.decision_id, _day(), cast(null(), t.MONEY), d.c.ratio, _number(), d.c.profile_id, d.c.profile_version,
    ).select_from(
        d.outerjoin(vi, vi.c.institution_id == d.c.institution_id).outerjoin(
            resumption, resumption.c.decision_id == literal("volume-resumption-") + func.substr(d.c.decision_id, len("volume-suspension-") + 1)
        )
    ).where(d.c.kind.in_([AlertKind.VOLUME_WARNING.value, AlertKind.SETTLEMENT_SUSPENDED.value]))

    nm, ki, clock = t.non_winning_months, t.kpi_institutions, t.clock
    last_closed = select(clock.c.last_closed_on).where(clock.c.clock_id == "business").scalar_subquery()
    next_month_end = _month_end(nm.c.month, 1)
    non_winning = select(
        nm.c.decision_id, literal(AlertKind.NON_WINNING_CAP_EXCEEDED.value, String), nm.c.institution_id, _text(),
        ki.c.pooling_region_code, _text(), nm.c.generic_group_id + literal(" ") + func.to_char(nm.c.month, "YYYY-MM"),
        _month_end(nm.c.month, 0), case((last_closed >= next_month_end, next_month_end), else_=_day()), _text(), _day(),
        cast(null(), t.MONEY), nm.c.ratio, nm.c.cap_ratio, nm.c.profile_id, nm.c.profile_version,
    ).select_from(nm.outerjoin(ki, ki.c.institution_id == nm.c.institution_id)).where(nm.c.decision_id.is_not(None))

    fw = t.filing_warnings
    year_end = func.make_date(fw.c.year, 12, 31)
    filing = select(
        fw.c.decision_id, literal(AlertKind.FILING_WARNING_LINE_EXCEEDED.value, String), fw.c.institution_id, _text(),
        ki.c.pooling_region_code, _text(), cast(fw.c.year, String), fw.c.exceeded_on,
        case((last_closed > year_end, year_end), else_=_day()), _text(), _day(), fw.c.filing_amount, _number(), fw.c.warning_line,
        fw.c.profile_id, fw.c.profile_version,
    ).select_from(fw.outerjoin(ki, ki.c.institution_id == fw.c.institution_id))

    m = t.manufacturer_report_misses
    missed = select(
        m.c.decision_id, literal(AlertKind.MANUFACTURER_REPORT_MISSED.value, String), _text(), m.c.manufacturer_id, _text(),
        _text(), m.c.month, m.c.due_on, m.c.closed_on, _text(), _day(), cast(null(), t.MONEY), _number(), _number(),
        m.c.profile_id, m.c.profile_version,
    )
    return union_all(payment, volume, non_winning, filing, missed).subquery("alert_feed")


@dataclass(frozen=True)
class FeedRow:
    decision_id: str
    kind: AlertKind
    institution_id: str | None
    manufacturer_id: str | None
    pooling_region_code: str | None
    invoice_id: str | None
    subject: str
    opened_on: date
    closed_on: date | None
    closed_by: str | None
    deadline: date | None
    amount: Decimal | None
    ratio: Decimal | None
    threshold: Decimal | None
    profile_id: str
    profile_version: int


async def listing(uow: UnitOfWork, where: FeedFilter, *, limit: int | None, offset: int) -> tuple[list[FeedRow], int]:
    """One page of the feed, oldest first, and how many match in all (one query: ``count(*) OVER ()``)."""
    f = feed()
    conditions = []
    if where.institution_id is not None:
        conditions.append(f.c.institution_id == where.institution_id)
    if where.manufacturer_id is not None:
        conditions.append(f.c.manufacturer_id == where.manufacturer_id)
    if where.pooling_region_code is not None:
        conditions.append(f.c.pooling_region_code == where.pooling_region_code)
    if where.kind is not None:
        conditions.append(f.c.kind == where.kind.value)
    if where.status is AlertStatus.OPEN:
        conditions.append(f.c.closed_on.is_(None))
    elif where.status is AlertStatus.CLOSED:
        conditions.append(f.c.closed_on.is_not(None))
    statement = (
        select(f, func.count().over().label("total")).where(*conditions)
        .order_by(f.c.opened_on, f.c.decision_id).offset(offset).limit(limit)
    )
    rows = (await uow.session.execute(statement)).mappings().all()
    total = int(rows[0]["total"]) if rows else 0
    if not rows and offset > 0:  # a page past the end still says how many there are
        total = int(await uow.session.scalar(select(func.count()).select_from(f).where(*conditions)) or 0)
    return [_row(dict(r)) for r in rows], total


def _row(r: dict[str, Any]) -> FeedRow:
    r.pop("total")
    return FeedRow(**{**r, "kind": AlertKind(r["kind"])})
