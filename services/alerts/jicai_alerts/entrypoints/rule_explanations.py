"""Why for the rules beyond the invoice obligation: R3 volume completion, R4 non-winning cap, R7 filing warning line,
and manufacturers' missing monthly reports."""
from __future__ import annotations

from typing import Any

import jicai_events.catalog as ie
from jicai_alerts.adapters import kpi_repository as kpi_repo
from jicai_alerts.adapters import manufacturer_repository as manufacturer_repo
from jicai_alerts.adapters import non_winning_repository as non_winning_repo
from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters import volume_repository as volume_repo
from jicai_alerts.adapters.policy import policy_book
from jicai_alerts.adapters.queries import Row
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning as nw
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain import volume_state as vs
from jicai_alerts.domain.alert_kinds import DecisionKind
from jicai_alerts.entrypoints import schemas as s
from jicai_alerts.entrypoints.decision_evidence import decision_event, profile_out, published_event, recorded_cause
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyProfile


async def explain_volume(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """An R3 warning, suspension or resumption: the period evaluated, targets and accepted quantities per contract,
    the thresholds and the exemptions considered."""
    row = await queries.find(uow, t.volume_decisions, decision_id)
    if row is None:
        return None
    recorded, _ = await volume_repo.load_volume(uow, row["institution_id"])
    event_id = next(i for e, i in recorded if isinstance(e, v.VolumeDecision) and e.decision_id == decision_id)
    evaluated = [e for e, _ in recorded if isinstance(e, v.PeriodEvaluated) and e.period_end == row["period_end"]]
    state = vs.fold(row["institution_id"], recorded)
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


async def explain_non_winning(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """An R4 decision: the month's winning and non-winning base units of the group, the cap ratio and the purchases counted."""
    nm = t.non_winning_months
    rows = await queries.list_rows(uow, nm, nm.c.decision_id == decision_id)
    if not rows:
        return None
    row = rows[0]
    recorded, _ = await non_winning_repo.load_non_winning(uow, row["institution_id"])
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


async def explain_filing(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """A filing-purchase warning-line decision (R7): the year's amount, the line and where it comes from, the filings counted."""
    row = await queries.find(uow, t.filing_warnings, decision_id)
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


async def explain_missed_report(uow: UnitOfWork, decision_id: str) -> s.DecisionOut | None:
    """A manufacturer's missing monthly report (Hubei 003 §五(二)): the month, its due day, and whether a late report closed it."""
    row = await queries.find(uow, t.manufacturer_report_misses, decision_id)
    if row is None:
        return None
    recorded, _ = await manufacturer_repo.load_manufacturer(uow, row["manufacturer_id"])
    event_id = next(i for e, i in recorded if isinstance(e, mr.ManufacturerReportMissed) and e.decision_id == decision_id)
    stored = await decision_event(uow, event_id, decision_id)
    contracts = {
        e.contract_event_id: s.CauseOut(id=e.contract_event_id, type=ie.ContractSigned.type_name(), subject=e.contract_id, date=e.cycle_start)
        for e, _ in recorded if isinstance(e, mr.ManufacturerContractTracked)
    }
    profile = policy_book().get(row["profile_id"], row["profile_version"])
    event, decision = await published_event(uow, stored)
    return s.DecisionOut(
        decision_id=decision_id, kind=DecisionKind.MANUFACTURER_REPORT_MISSED, invoice_id=None, institution_id=None, manufacturer_id=row["manufacturer_id"],
        effective_on=row["due_on"], decision=decision, event=event,
        profile=profile_out(profile),
        parameters={"manufacturer_report": profile.manufacturer_report.model_dump(mode="json") if profile.manufacturer_report else None},
        calendar={},
        evaluation={"month": row["month"], "due_on": row["due_on"].isoformat(), "status": "closed" if row["closed_on"] else "missing",
                    "closed_on": row["closed_on"].isoformat() if row["closed_on"] else None, "exemptions_considered": []},
        causes=[contracts.get(cause) or await recorded_cause(uow, cause) for cause in row["caused_by"]],
    )


async def _rule_decision(
    uow: UnitOfWork, row: Row, event_id: str, profile: PolicyProfile, parameters: dict[str, Any],
    evaluation: dict[str, Any], facts: dict[str, s.CauseOut],
) -> s.DecisionOut:
    stored = await decision_event(uow, event_id, row["decision_id"])
    event, decision = await published_event(uow, stored)
    return s.DecisionOut(
        decision_id=row["decision_id"], kind=row["kind"], invoice_id=None, institution_id=row["institution_id"],
        effective_on=row["effective_on"], decision=decision, event=event,
        profile=profile_out(profile),
        parameters=parameters, calendar={}, evaluation=evaluation,
        causes=[facts.get(cause) or await recorded_cause(uow, cause) for cause in row["caused_by"]],
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
