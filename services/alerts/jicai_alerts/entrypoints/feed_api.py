"""The alerts feed over HTTP: every open and closed decision of every rule, for one institution or the province."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from jicai_alerts.adapters import feed
from jicai_alerts.domain.alert_kinds import AlertKind, AlertStatus
from jicai_events.types import Money
from jicai_kit.auth import SEES_ALL, Caller, Principal, Role
from jicai_kit.commands import query
from jicai_kit.problems import forbidden

router = APIRouter(tags=["alerts"])

Region = Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="pooling region (统筹区) code")]


class AlertOut(BaseModel):
    """One decision of one rule that stays in force until something closes it (``kind`` says which rule)."""

    alert_id: str = Field(description="the decision id; its why is at ``why``")
    kind: AlertKind
    status: AlertStatus
    institution_id: str | None = Field(description="the institution decided about; null for a manufacturer's missing report")
    manufacturer_id: str | None = Field(default=None, description="manufacturer_report_missed: the manufacturer")
    pooling_region_code: str | None = Field(
        default=None, description="统筹区 of the institution (of its invoice for R1/R2); null for manufacturers, or before it is known"
    )
    invoice_id: str | None = Field(description="overdue_warning, settlement_withheld: the invoice")
    subject: str = Field(
        default="", description="what it is about: the invoice (R1/R2), the period end (R3), the generic group and month (R4), "
        "the year (R7), the report month (manufacturers)"
    )
    opened_on: date = Field(description="the day it took effect")
    since: date = Field(description="the same as opened_on (kept for existing clients)", deprecated=True)
    closed_on: date | None
    closed_by: str | None = Field(
        description="the decision that closed it: a resolution or release (R2), a resumption (R3); null for the others"
    )
    deadline: date | None = Field(description="overdue_warning, settlement_withheld: the payment deadline (回款期限)")
    outstanding_amount: Money | None = Field(description="overdue_warning, settlement_withheld: what was still owed when it was decided")
    ratio: Decimal | None = Field(
        default=None, description="volume_warning, settlement_suspended: completion ratio; non_winning_cap_exceeded: non-winning / winning",
    )
    summary: str = Field(default="", description="one line for people, the notices' term first")
    why: str = Field(default="", description="where its why is: GET /decisions/{alert_id}")
    profile_id: str = Field(description="the policy profile the decision applied")
    profile_version: int


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int = Field(description="how many match the filter in all")
    limit: int
    offset: int


def _percent(ratio: Decimal | None) -> str:
    return "no winning purchases" if ratio is None else f"{(ratio * 100).normalize():f}%"


def summary(row: feed.FeedRow) -> str:
    """One line saying what the decision is, with the figures that made it."""
    match row.kind:
        case AlertKind.OVERDUE_WARNING:
            return f"预警 overdue: invoice {row.invoice_id} not paid in full by {row.deadline}, {row.amount} outstanding"
        case AlertKind.SETTLEMENT_WITHHELD:
            return f"暂缓拨付 settlement withheld from {row.opened_on}: invoice {row.invoice_id}, {row.amount} outstanding"
        case AlertKind.VOLUME_WARNING:
            return f"完成约定采购量 预警: {_percent(row.ratio)} of the agreed volume by the period end {row.subject}"
        case AlertKind.SETTLEMENT_SUSPENDED:
            return f"暂停医保月结算 from {row.opened_on}: {_percent(row.ratio)} of the agreed volume by the period end {row.subject}"
        case AlertKind.NON_WINNING_CAP_EXCEEDED:
            group, month = row.subject.rsplit(" ", 1)
            return (f"非中选 above the cap: group {group} in {month}, non-winning at {_percent(row.ratio)} of winning "
                    f"(cap {_percent(row.threshold)})")
        case AlertKind.FILING_WARNING_LINE_EXCEEDED:
            return f"备案采购 {row.subject}: {row.amount} passed the warning line {row.threshold} on {row.opened_on}"
        case AlertKind.MANUFACTURER_REPORT_MISSED:
            return f"monthly report on {row.subject} not submitted by {row.opened_on} (manufacturer {row.manufacturer_id})"


def _out(row: feed.FeedRow) -> AlertOut:
    return AlertOut(
        alert_id=row.decision_id, kind=row.kind, status=AlertStatus.OPEN if row.closed_on is None else AlertStatus.CLOSED,
        institution_id=row.institution_id, manufacturer_id=row.manufacturer_id, pooling_region_code=row.pooling_region_code,
        invoice_id=row.invoice_id, subject=row.subject, opened_on=row.opened_on, since=row.opened_on, closed_on=row.closed_on,
        closed_by=row.closed_by, deadline=row.deadline, outstanding_amount=row.amount if row.invoice_id else None,
        ratio=row.ratio, summary=summary(row), why=f"/decisions/{row.decision_id}",
        profile_id=row.profile_id, profile_version=row.profile_version,
    )


@router.get("/institutions/{institution_id}/alerts", response_model=list[AlertOut])
async def institution_alerts(
    institution_id: str, caller: Caller, request: Request, include_closed: bool = False,
    status: Annotated[AlertStatus | None, Query(description="open or closed; given, it wins over include_closed")] = None,
    kind: AlertKind | None = None,
) -> list[AlertOut]:
    """Every decision of every rule about the institution, oldest first: overdue warnings (预警) and withheld settlements
    (暂缓拨付), volume warnings and suspensions (R3), non-winning purchases above the cap (R4), the filing-purchase
    warning line (R7). Open ones only unless ``include_closed`` or ``status``."""
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id)
    where = feed.FeedFilter(
        institution_id=institution_id, kind=kind, status=status or (None if include_closed else AlertStatus.OPEN)
    )
    rows, _ = await query(request.app.state.runtime, lambda uow: feed.listing(uow, where, limit=None, offset=0))
    return [_out(r) for r in rows]


def _scope(caller: Principal, institution_id: str | None) -> tuple[str | None, str | None]:
    """What the caller may list: operators and the fund everything, an institution its own, a manufacturer its own reports."""
    if caller.role in SEES_ALL:
        return institution_id, None
    if caller.role is Role.INSTITUTION:
        if institution_id not in (None, caller.party_id):
            raise forbidden(f"the alerts of institution {institution_id} are not institution {caller.party_id}'s records")
        return caller.party_id, None
    if caller.role is Role.MANUFACTURER and institution_id is None:
        return None, caller.party_id
    raise forbidden(f"role {caller.role.value} may not list these alerts")


@router.get("/alerts", response_model=AlertPage)
async def province_alerts(
    caller: Caller, request: Request,
    status: AlertStatus | None = None, kind: AlertKind | None = None, region: Region = None,
    institution_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> AlertPage:
    """The province's feed, oldest first: every decision of every rule, filtered by status, kind, pooling region and
    institution. An institution sees only its own; a manufacturer its missing reports."""
    institution, manufacturer = _scope(caller, institution_id)
    where = feed.FeedFilter(
        institution_id=institution, manufacturer_id=manufacturer, pooling_region_code=region, kind=kind, status=status
    )
    rows, total = await query(request.app.state.runtime, lambda uow: feed.listing(uow, where, limit=limit, offset=offset))
    return AlertPage(items=[_out(r) for r in rows], total=total, limit=limit, offset=offset)
