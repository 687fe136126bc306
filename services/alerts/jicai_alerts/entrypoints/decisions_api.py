"""Decisions over HTTP: why one was taken (the event as published, the profile and rule parameters applied, its
causes), and the decisions the rules cannot take yet.

An institution sees the decisions about it, a manufacturer its missing reports; operators and the fund see all.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import current_book, policy_book
from jicai_alerts.entrypoints import rule_explanations as rules
from jicai_alerts.entrypoints import schemas as s
from jicai_alerts.entrypoints.decision_evidence import profile_out, published_event
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import query
from jicai_kit.problems import not_found
from jicai_policy import CalendarYearNotCovered, WorkingDayCalendar

router = APIRouter()


@router.get("/decisions/{decision_id}", tags=["decisions"], response_model=s.DecisionOut)
async def explain_decision(decision_id: str, caller: Caller, request: Request) -> s.DecisionOut:
    """Why: the decision event as published, the profile and rule parameters applied, and the causing events."""
    explained = await query(request.app.state.runtime, lambda uow: _explain(uow, decision_id))
    if explained is None:
        raise not_found("decision", decision_id)
    if explained.manufacturer_id is not None:
        caller.may_read(what=f"the records of manufacturer {explained.manufacturer_id}", manufacturer_id=explained.manufacturer_id)
    else:
        institution_id = explained.institution_id or ""
        caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id)
    return explained


@router.get("/blocked-decisions", tags=["operations"], response_model=list[s.BlockedDecisionOut])
async def blocked_decisions(caller: Caller, request: Request) -> list[s.BlockedDecisionOut]:
    """Invoices whose next decision the rules cannot take yet, with the reason: those waiting for the working-day
    calendar of a year (decided when an operator loads it: contracts' ``PUT /calendars/{year}``, on the policy topic), and those a day close could
    not decide (retried at every day close)."""
    caller.require(Role.OPERATOR, Role.FUND)
    rows = await query(request.app.state.runtime, queries.blocked_decisions)
    return [s.BlockedDecisionOut.model_validate(r) for r in rows]


async def _explain(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    row = await queries.find(uow, t.decisions, decision_id)
    if row is None:
        return (await rules.explain_volume(uow, decision_id) or await rules.explain_non_winning(uow, decision_id)
                or await rules.explain_filing(uow, decision_id) or await rules.explain_missed_report(uow, decision_id))
    es = t.event_tables.event_store
    # a stream may hold several decisions of one type (a deadline restarted by a credit note): match the decision id
    stored = await queries.stored_event(
        uow, es.c.stream_id == row["stream_id"], es.c.event_type == row["event_name"], es.c.data["decision_id"].astext == decision_id
    )
    if stored is None:
        raise LookupError(f"decision {decision_id} has no event in the store")
    profile = policy_book().get(row["profile_id"], row["profile_version"])
    event, decision = await published_event(uow, stored)
    return s.DecisionOut(
        decision_id=decision_id,
        kind=row["kind"],
        invoice_id=row["invoice_id"],
        institution_id=row["institution_id"],
        effective_on=row["effective_on"],
        decision=decision,
        event=event,
        profile=profile_out(profile),
        parameters={
            "payment_term": profile.payment_term.model_dump(mode="json"),
            "overdue": profile.overdue.model_dump(mode="json"),
        },
        calendar=_calendar_sources(stored["data"], (await current_book(uow)).calendar),
        causes=[await _cause(uow, event_id) for event_id in row["caused_by"]],
    )


async def _cause(uow: UnitOfWork, event_id: str) -> s.CauseOut:
    observed = await queries.find(uow, t.observed_events, event_id)
    if observed is not None:
        return s.CauseOut(id=event_id, type=observed["event_type"], subject=observed["subject"], date=observed["business_date"])
    stored = await queries.stored_event(uow, t.event_tables.event_store.c.event_id == event_id)
    decision = await queries.find(uow, t.decisions, stored["data"]["decision_id"]) if stored else None
    if stored is None or decision is None:
        raise LookupError(f"cause {event_id} is unknown")
    published, _ = await published_event(uow, stored)
    return s.CauseOut(id=event_id, type=published.type, subject=decision["decision_id"], date=decision["effective_on"])


def _calendar_sources(data: dict[str, Any], calendar: WorkingDayCalendar) -> dict[str, str]:
    years = sorted({date.fromisoformat(v).year for v in data.values() if isinstance(v, str) and _is_date(v)})
    sources: dict[str, str] = {}
    for year in years:
        try:
            sources[str(year)] = calendar.source_of(year)
        except CalendarYearNotCovered:
            sources[str(year)] = "not covered"
    return sources


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10
