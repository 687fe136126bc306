"""HTTP API of the alerts service: read-only views of the decisions and why they were taken.

Every party sees only its own records: an institution its invoices, alerts and
decisions, a distributor the invoices it issued; operators and the fund see all.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from fastapi import APIRouter, Request

import jicai_events.catalog as ie
from jicai_alerts.adapters import kpi_repository as kpi_repo
from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.policy import current_book, policy_book
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_completion as vc
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.alert_kinds import DecisionKind
from jicai_alerts.entrypoints import schemas as s
from jicai_events import Envelope
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Principal, Role
from jicai_kit.commands import query
from jicai_kit.problems import not_found
from jicai_policy import CalendarYearNotCovered, PolicyProfile, WorkingDayCalendar

log = logging.getLogger(__name__)


router = APIRouter()


def _may_see(caller: Principal, institution_id: str, distributor_id: str | None = None) -> None:
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id, distributor_id=distributor_id)


def _invoice(row: dict[str, Any]) -> s.InvoiceOut:
    return s.InvoiceOut.model_validate(row)


@router.get("/institutions/{institution_id}/invoices", tags=["invoices"], response_model=list[s.InvoiceOut])
async def institution_invoices(institution_id: str, caller: Caller, request: Request) -> list[s.InvoiceOut]:
    """The institution's invoices: amount, paid, outstanding, deadline (回款期限), status and decision dates."""
    _may_see(caller, institution_id)
    inv = t.invoices
    rows = await query(
        request.app.state.runtime,
        lambda uow: repo.list_rows(uow, inv, inv.c.institution_id == institution_id, order_by=[inv.c.deadline, inv.c.invoice_id]),
    )
    return [_invoice(r) for r in rows]


@router.get("/invoices/{invoice_id}", tags=["invoices"], response_model=s.InvoiceDetail)
async def one_invoice(invoice_id: str, caller: Caller, request: Request) -> s.InvoiceDetail:
    """One invoice with the payments counted against it and the decisions about it."""

    async def read(uow: UnitOfWork) -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        row = await repo.find(uow, t.invoices, invoice_id)
        pa, d = t.payment_allocations, t.decisions
        payments = await repo.list_rows(uow, pa, pa.c.invoice_id == invoice_id, order_by=[pa.c.paid_on, pa.c.payment_id])
        decisions = await repo.list_rows(uow, d, d.c.invoice_id == invoice_id, order_by=[d.c.effective_on, d.c.decision_id])
        return row, payments, decisions

    row, payments, decisions = await query(request.app.state.runtime, read)
    if row is None:
        raise not_found("invoice", invoice_id)
    _may_see(caller, row["institution_id"], row["distributor_id"])
    return s.InvoiceDetail.model_validate(
        {**row, "payments": payments, "decisions": [d["decision_id"] for d in decisions]}
    )


@router.get("/decisions/{decision_id}", tags=["decisions"], response_model=s.DecisionOut)
async def explain_decision(decision_id: str, caller: Caller, request: Request) -> s.DecisionOut:
    """Why: the decision event as published, the profile and rule parameters applied, and the causing events."""
    explained = await query(request.app.state.runtime, lambda uow: _explain(uow, decision_id))
    if explained is None:
        raise not_found("decision", decision_id)
    if explained.manufacturer_id is not None:
        caller.may_read(what=f"the records of manufacturer {explained.manufacturer_id}", manufacturer_id=explained.manufacturer_id)
    else:
        _may_see(caller, explained.institution_id or "")
    return explained


@router.get("/blocked-decisions", tags=["operations"], response_model=list[s.BlockedDecisionOut])
async def blocked_decisions(caller: Caller, request: Request) -> list[s.BlockedDecisionOut]:
    """Invoices whose next decision the rules cannot take yet, with the reason: those waiting for the working-day
    calendar of a year (decided when an operator loads it: contracts' ``PUT /calendars/{year}``, on the policy topic), and those a day close could
    not decide (retried at every day close)."""
    caller.require(Role.OPERATOR, Role.FUND)
    rows = await query(request.app.state.runtime, repo.blocked_decisions)
    return [s.BlockedDecisionOut.model_validate(r) for r in rows]


async def _explain(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    row = await repo.find(uow, t.decisions, decision_id)
    if row is None:
        return (await _explain_volume(uow, decision_id) or await _explain_non_winning(uow, decision_id) or await _explain_filing(uow, decision_id)
                or await _explain_missed_report(uow, decision_id))
    es = t.event_tables.event_store
    # a stream may hold several decisions of one type (a deadline restarted by a credit note): match the decision id
    stored = await repo.stored_event(
        uow, es.c.stream_id == row["stream_id"], es.c.event_type == row["event_name"], es.c.data["decision_id"].astext == decision_id
    )
    if stored is None:
        raise LookupError(f"decision {decision_id} has no event in the store")
    profile = policy_book().get(row["profile_id"], row["profile_version"])
    event, decision = await _event(uow, stored)
    return s.DecisionOut(
        decision_id=decision_id,
        kind=row["kind"],
        invoice_id=row["invoice_id"],
        institution_id=row["institution_id"],
        effective_on=row["effective_on"],
        decision=decision,
        event=event,
        profile={"profile_id": profile.profile_id, "version": profile.version, "title": profile.title, "source": profile.source},
        parameters={
            "payment_term": profile.payment_term.model_dump(mode="json"),
            "overdue": profile.overdue.model_dump(mode="json"),
        },
        calendar=_calendar_sources(stored["data"], (await current_book(uow)).calendar),
        causes=[await _cause(uow, event_id) for event_id in row["caused_by"]],
    )


async def _event(uow: UnitOfWork, stored: dict[str, Any]) -> tuple[s.EventOut, dict[str, Any]]:
    """The integration event as published, or the domain event when the decision stays inside."""
    payload = await repo.published(uow, stored["event_id"])
    if payload is None:
        return s.EventOut(id=stored["event_id"], type=stored["event_type"], recorded_at=stored["recorded_at"]), stored["data"]
    envelope = Envelope.from_bytes(payload)
    return s.EventOut(id=envelope.id, type=envelope.type, recorded_at=stored["recorded_at"]), envelope.data


async def _cause(uow: UnitOfWork, event_id: str) -> s.CauseOut:
    observed = await repo.find(uow, t.observed_events, event_id)
    if observed is not None:
        return s.CauseOut(id=event_id, type=observed["event_type"], subject=observed["subject"], date=observed["business_date"])
    stored = await repo.stored_event(uow, t.event_tables.event_store.c.event_id == event_id)
    decision = await repo.find(uow, t.decisions, stored["data"]["decision_id"]) if stored else None
    if stored is None or decision is None:
        raise LookupError(f"cause {event_id} is unknown")
    published, _ = await _event(uow, stored)
    return s.CauseOut(id=event_id, type=published.type, subject=decision["decision_id"], date=decision["effective_on"])


# ---- why for R3 (volume completion) and R4 (non-winning cap) -----------------------------


async def _explain_volume(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """An R3 warning, suspension or resumption: the period evaluated, targets and accepted quantities per contract,
    the thresholds and the exemptions considered."""
    row = await repo.find(uow, t.volume_decisions, decision_id)
    if row is None:
        return None
    recorded, _ = await repo.load_volume(uow, row["institution_id"])
    event_id = next(i for e, i in recorded if isinstance(e, v.VolumeDecision) and e.decision_id == decision_id)
    evaluated = [e for e, _ in recorded if isinstance(e, v.PeriodEvaluated) and e.period_end == row["period_end"]]
    state = vc.fold(row["institution_id"], recorded)
    profile = policy_book().get(row["profile_id"], row["profile_version"])
    evaluation: dict[str, Any] = {
        **(evaluated[-1].model_dump(mode="json", exclude={"day_closed_event_id"}) if evaluated else {}),
        "exemptions_considered": [
            {
                "exemption_id": x.granted.exemption_id, "reason": x.granted.reason, "from_date": x.granted.from_date.isoformat(),
                "to_date": x.granted.to_date.isoformat(), "revoked": x.revoked, "covers_period_end": x.covers(row["period_end"]),
            }
            for x in state.exemptions.values()
        ],
    }
    parameters = {"volume_completion": profile.volume_completion.model_dump(mode="json") if profile.volume_completion else None}
    facts = _volume_facts(recorded)
    return await _rule_decision(uow, row, event_id, profile, parameters, evaluation, facts)


async def _explain_non_winning(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """An R4 decision: the month's winning and non-winning base units of the group, the cap ratio and the purchases counted."""
    nm = t.non_winning_months
    rows = await repo.list_rows(uow, nm, nm.c.decision_id == decision_id)
    if not rows:
        return None
    row = rows[0]
    recorded, _ = await repo.load_non_winning(uow, row["institution_id"])
    event_id = next(i for e, i in recorded if isinstance(e, n.NonWinningPurchaseCapExceeded) and e.decision_id == decision_id)
    decided = next(e for e, _ in recorded if isinstance(e, n.NonWinningPurchaseCapExceeded) and e.decision_id == decision_id)
    profile = policy_book().get(row["profile_id"], row["profile_version"])
    evaluation = {
        "month": decided.month, "generic_group_id": row["generic_group_id"], "winning_base_units": str(row["winning_base_units"]),
        "non_winning_base_units": str(row["non_winning_base_units"]), "ratio": str(row["ratio"]) if row["ratio"] is not None else None,
        "cap_ratio": str(row["cap_ratio"]), "purchases_counted": decided.purchases_counted,
        "caused_by_truncated": decided.caused_by_truncated, "exemptions_considered": [],
    }
    parameters = {"non_winning_cap": profile.non_winning_cap.model_dump(mode="json") if profile.non_winning_cap else None}
    facts = _non_winning_facts(recorded)
    decision_row = {**row, "kind": "non_winning_cap_exceeded", "effective_on": nw.month_end(row["month"])}
    return await _rule_decision(uow, decision_row, event_id, profile, parameters, evaluation, facts)


async def _explain_filing(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """A filing-purchase warning-line decision (R7): the year's amount, the line and where it comes from, the filings counted."""
    row = await repo.find(uow, t.filing_warnings, decision_id)
    if row is None:
        return None
    recorded, _ = await kpi_repo.load_kpi(uow, row["institution_id"])
    event_id = next(i for e, i in recorded if isinstance(e, k.FilingWarningLineExceeded) and e.decision_id == decision_id)
    profile = policy_book().get(row["profile_id"], row["profile_version"])
    evaluation = {
        "year": row["year"], "filing_amount": str(row["filing_amount"]), "warning_line": str(row["warning_line"]),
        "line_source": row["line_source"], "exemptions_considered": [],
    }
    parameters = {"filing_purchase": profile.filing_purchase.model_dump(mode="json") if profile.filing_purchase else None}
    facts = {
        e.event_id: s.CauseOut(id=e.event_id, type=ie.FilingPurchaseRecorded.type_name(), subject=e.filing_id, date=e.purchased_on)
        for e, _ in recorded if isinstance(e, k.FilingCounted)
    }
    decision_row = {**row, "kind": "filing_warning_line_exceeded", "effective_on": row["exceeded_on"]}
    return await _rule_decision(uow, decision_row, event_id, profile, parameters, evaluation, facts)


async def _explain_missed_report(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """A manufacturer's missing monthly report (Hubei 003 §五(二)): the month, its due day, and whether a late report closed it."""
    row = await repo.find(uow, t.manufacturer_report_misses, decision_id)
    if row is None:
        return None
    recorded, _ = await repo.load_manufacturer(uow, row["manufacturer_id"])
    event_id = next(i for e, i in recorded if isinstance(e, mr.ManufacturerReportMissed) and e.decision_id == decision_id)
    stored = await repo.stored_event(uow, t.event_tables.event_store.c.event_id == event_id)
    if stored is None:
        raise LookupError(f"decision {decision_id} has no event in the store")
    contracts = {
        e.contract_event_id: s.CauseOut(id=e.contract_event_id, type=ie.ContractSigned.type_name(), subject=e.contract_id, date=e.cycle_start)
        for e, _ in recorded if isinstance(e, mr.ManufacturerContractTracked)
    }
    profile = policy_book().get(row["profile_id"], row["profile_version"])
    event, decision = await _event(uow, stored)
    return s.DecisionOut(
        decision_id=decision_id, kind=DecisionKind.MANUFACTURER_REPORT_MISSED, invoice_id=None, institution_id=None, manufacturer_id=row["manufacturer_id"],
        effective_on=row["due_on"], decision=decision, event=event,
        profile={"profile_id": profile.profile_id, "version": profile.version, "title": profile.title, "source": profile.source},
        parameters={"manufacturer_report": profile.manufacturer_report.model_dump(mode="json") if profile.manufacturer_report else None},
        calendar={},
        evaluation={"month": row["month"], "due_on": row["due_on"].isoformat(), "status": "closed" if row["closed_on"] else "missing",
                    "closed_on": row["closed_on"].isoformat() if row["closed_on"] else None, "exemptions_considered": []},
        causes=[contracts.get(cause) or await _recorded_cause(uow, cause) for cause in row["caused_by"]],
    )


async def _rule_decision(
    uow: UnitOfWork, row: dict[str, Any], event_id: str, profile: PolicyProfile, parameters: dict[str, Any],
    evaluation: dict[str, Any], facts: dict[str, s.CauseOut],
) -> s.DecisionOut:
    stored = await repo.stored_event(uow, t.event_tables.event_store.c.event_id == event_id)
    if stored is None:
        raise LookupError(f"decision {row['decision_id']} has no event in the store")
    event, decision = await _event(uow, stored)
    return s.DecisionOut(
        decision_id=row["decision_id"], kind=row["kind"], invoice_id=None, institution_id=row["institution_id"],
        effective_on=row["effective_on"], decision=decision, event=event,
        profile={"profile_id": profile.profile_id, "version": profile.version, "title": profile.title, "source": profile.source},
        parameters=parameters, calendar={}, evaluation=evaluation,
        causes=[facts.get(cause) or await _recorded_cause(uow, cause) for cause in row["caused_by"]],
    )


def _volume_facts(recorded: list[tuple[v.VolumeEvent, str]]) -> dict[str, s.CauseOut]:
    """The consumed events a volume stream counted, by their event id."""
    facts: dict[str, s.CauseOut] = {}
    for e, _ in recorded:
        if isinstance(e, v.ContractTracked):
            facts[e.contract_event_id] = s.CauseOut(id=e.contract_event_id, type=ie.ContractSigned.type_name(), subject=e.contract_id, date=e.cycle_start)
        elif isinstance(e, v.AgreementTracked):
            kind = ie.YearlyAgreementRolledOver if e.rolled_over else ie.YearlyAgreementSigned
            facts[e.agreement_event_id] = s.CauseOut(id=e.agreement_event_id, type=kind.type_name(), subject=e.agreement_id, date=e.year_start)
        elif isinstance(e, v.AgreementAmended):
            facts[e.amendment_event_id] = s.CauseOut(
                id=e.amendment_event_id, type=ie.YearlyAgreementAmended.type_name(), subject=e.agreement_id, date=e.amended_on
            )
    return facts


def _non_winning_facts(recorded: list[tuple[n.NonWinningEvent, str]]) -> dict[str, s.CauseOut]:
    return {
        e.purchase_event_id: s.CauseOut(id=e.purchase_event_id, type=ie.PurchaseRecorded.type_name(), subject=e.purchase_id, date=e.purchased_on)
        for e, _ in recorded if isinstance(e, n.NonWinningPurchaseCounted)
    }


async def _recorded_cause(uow: UnitOfWork, event_id: str) -> s.CauseOut:
    """A consumed event the service observed (``DayClosed``), or an alerts event (a suspension, an exemption)."""
    observed = await repo.find(uow, t.observed_events, event_id)
    if observed is not None:
        return s.CauseOut(id=event_id, type=observed["event_type"], subject=observed["subject"], date=observed["business_date"])
    stored = await repo.stored_event(uow, t.event_tables.event_store.c.event_id == event_id)
    if stored is None:
        raise LookupError(f"cause {event_id} is unknown")
    published, data = await _event(uow, stored)
    subject = data.get("decision_id") or data.get("exemption_id") or stored["stream_id"]
    day = next((date.fromisoformat(data[k]) for k in ("suspended_from", "resumed_on", "period_end", "from_date") if k in data), None)
    return s.CauseOut(id=event_id, type=published.type, subject=subject, date=day or stored["recorded_at"].date())


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
