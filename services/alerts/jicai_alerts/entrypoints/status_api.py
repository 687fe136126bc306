"""HTTP API of an institution's status as of a past date (obligations, warnings, withholds, suspensions),
computed from the event log, not from the current read models."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from jicai_alerts.adapters import queries
from jicai_alerts.application import day_close
from jicai_alerts.domain import as_of as a
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller
from jicai_kit.commands import query

router = APIRouter(tags=["as of"])


class InvoiceOwedOut(BaseModel):
    invoice_id: str
    invoice_number: str
    received_on: date
    deadline: date | None = Field(
        description="回款期限 (R1) in force on as_of: restarted by a credit note where the profile says so; "
        "null while it waits for the working-day calendar of its year"
    )
    amount: Decimal
    paid: Decimal = Field(description="payments dated on or before as_of")
    credited: Decimal = Field(description="credit notes (红冲) received on or before as_of; a voided invoice is not owed")
    outstanding: Decimal
    overdue: bool = Field(description="not fully paid after the deadline, as of the date")


class OpenDecisionOut(BaseModel):
    decision_id: str
    kind: a.OpenKind = Field(
        description="预警 (R2), 暂缓拨付 (R2), 完成约定采购量 预警 (R3), 暂停医保月结算 (R3)"
    )
    since: date = Field(description="the day it took effect")
    invoice_id: str | None
    period_end: date | None
    outstanding_amount: Decimal | None
    ratio: Decimal | None
    profile_id: str
    profile_version: int


class StatusOut(BaseModel):
    institution_id: str
    as_of: date
    last_closed_on: date | None = Field(description="decisions are taken up to this business day; later as_of dates show no later decisions")
    outstanding: Decimal = Field(description="Σ outstanding of the invoices owed")
    invoices: list[InvoiceOwedOut] = Field(description="invoices received by as_of and still owing something: not fully paid, credited (红冲) or voided by it")
    warnings: list[OpenDecisionOut] = Field(description="open overdue warnings (R2) and the latest period's volume warnings (R3)")
    withholds: list[OpenDecisionOut] = Field(description="withheld settlements (暂缓拨付, R2) in force")
    suspensions: list[OpenDecisionOut] = Field(description="suspended monthly settlements (暂停医保月结算, R3) in force")


def _decision(x: a.OpenDecision) -> OpenDecisionOut:
    return OpenDecisionOut(
        decision_id=x.decision_id, kind=x.kind, since=x.since, invoice_id=x.invoice_id, period_end=x.period_end,
        outstanding_amount=x.outstanding_amount, ratio=x.ratio, profile_id=x.profile_id, profile_version=x.profile_version,
    )


@router.get("/institutions/{institution_id}/status", response_model=StatusOut)
async def institution_status(institution_id: str, as_of: date, caller: Caller, request: Request) -> StatusOut:
    """The institution as of ``as_of`` (YYYY-MM-DD): every event recorded up to now whose business date is on or before
    it (an invoice from its receipt, a payment from its payment date, a credit note or void (红冲) from its date, a decision
    from the day it takes effect), folded as the live view folds them."""
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id)

    async def read(uow: UnitOfWork) -> tuple[a.Status, date | None]:
        invoices, volume = await queries.dated_streams(uow, institution_id)
        last = await day_close.last_decided_day(uow)  # a close under way is not decided yet
        return a.status(as_of, institution_id, invoices, volume), last.business_date if last else None

    result, last_closed_on = await query(request.app.state.runtime, read)
    return StatusOut(
        institution_id=institution_id, as_of=as_of, last_closed_on=last_closed_on, outstanding=result.outstanding,
        invoices=[InvoiceOwedOut(**vars(i)) for i in result.invoices],
        warnings=[_decision(x) for x in result.warnings], withholds=[_decision(x) for x in result.withholds],
        suspensions=[_decision(x) for x in result.suspensions],
    )
