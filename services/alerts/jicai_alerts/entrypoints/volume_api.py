"""HTTP API of R3 volume completion: exemptions (operators), completion per period, year-end shortfall."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Query, Request

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters import volume_repository as volume_repo
from jicai_alerts.adapters.policy import policy_book
from jicai_alerts.adapters.queries import Row
from jicai_alerts.application import volume
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain import volume_periods as vp
from jicai_alerts.domain import volume_state as vs
from jicai_alerts.entrypoints import volume_schemas as s
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import execute, query
from jicai_kit.validity import check_dates

router = APIRouter(tags=["volume completion"])
CENT = Decimal("0.01")


@router.post("/institutions/{institution_id}/volume-exemptions", status_code=201, response_model=s.ExemptionRecorded)
async def grant_exemption(institution_id: str, body: s.ExemptionIn, caller: Caller, request: Request) -> s.ExemptionRecorded:
    """Grant an exemption for force majeure (不可抗力, 另行处理): no warning or suspension for the period
    ends it covers; one covering the period end of a suspension in force resumes it on the current business day."""
    caller.require(Role.OPERATOR)
    check_dates(request.app.state.settings, policy_book(), None, {}, {"from": body.from_date, "to": body.to_date})
    grant = v.VolumeExemptionGranted(
        exemption_id=body.exemption_id, institution_id=institution_id, reason=body.reason,
        from_date=body.from_date, to_date=body.to_date, granted_by=caller.party_id,
    )

    async def command(uow: UnitOfWork) -> None:
        await volume.grant_exemption(uow, grant)

    await execute(request.app.state.runtime, command)
    return s.ExemptionRecorded(exemption_id=body.exemption_id, institution_id=institution_id, status="granted")


@router.post(
    "/institutions/{institution_id}/volume-exemptions/{exemption_id}/revocation", response_model=s.ExemptionRecorded
)
async def revoke_exemption(
    institution_id: str, exemption_id: str, body: s.RevocationIn, caller: Caller, request: Request
) -> s.ExemptionRecorded:
    """Revoke an exemption: period ends evaluated later are decided again; past ones stay as decided."""
    caller.require(Role.OPERATOR)
    revoke = v.VolumeExemptionRevoked(
        exemption_id=exemption_id, institution_id=institution_id, reason=body.reason, revoked_by=caller.party_id
    )
    await execute(request.app.state.runtime, lambda uow: volume.revoke_exemption(uow, revoke))
    return s.ExemptionRecorded(exemption_id=exemption_id, institution_id=institution_id, status="revoked")


@router.get("/institutions/{institution_id}/volume-completion", response_model=s.VolumeCompletionOut)
async def volume_completion(institution_id: str, caller: Caller, request: Request) -> s.VolumeCompletionOut:
    """Per evaluated period end: cumulative target, accepted quantity and ratio per contract and combined, and the decisions."""
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id)

    async def read(uow: UnitOfWork) -> tuple[Row | None, list[Row], list[Row], list[Row]]:
        periods_t, vd, vx = t.volume_periods, t.volume_decisions, t.volume_exemptions
        return (
            await queries.find(uow, t.volume_institutions, institution_id),
            await queries.list_rows(uow, periods_t, periods_t.c.institution_id == institution_id, order_by=[periods_t.c.period_end]),
            await queries.list_rows(uow, vd, vd.c.institution_id == institution_id, order_by=[vd.c.effective_on, vd.c.decision_id]),
            await queries.list_rows(uow, vx, vx.c.institution_id == institution_id, order_by=[vx.c.from_date, vx.c.exemption_id]),
        )

    summary, periods, decisions, exemptions = await query(request.app.state.runtime, read)
    by_period: dict[date, list[Row]] = defaultdict(list)
    for d in decisions:
        by_period[d["period_end"]].append(d)
    return s.VolumeCompletionOut(
        institution_id=institution_id,
        status="suspended" if summary and summary["suspension_decision_id"] else "normal",
        suspension_decision_id=summary["suspension_decision_id"] if summary else None,
        suspended_from=summary["suspended_from"] if summary else None,
        next_period_end=summary["next_period_end"] if summary else None,
        periods=[
            s.PeriodOut(
                period_end=p["period_end"], ratio=p["ratio"], exemption_id=p["exemption_id"],
                profile_id=p["profile_id"], profile_version=p["profile_version"],
                target_amount=sum((Decimal(c["target_amount"]) for c in p["contracts"]), Decimal("0.00")),
                accepted_amount=sum((Decimal(c["accepted_amount"]) for c in p["contracts"]), Decimal("0.00")),
                contracts=[s.ContractCompletionOut.model_validate(c) for c in p["contracts"]],
                decisions=[s.VolumeDecisionOut.model_validate(d) for d in by_period[p["period_end"]]],
            )
            for p in periods
        ],
        exemptions=[s.ExemptionOut.model_validate(x) for x in exemptions],
    )


@router.get("/reports/volume-shortfall", response_model=list[s.ShortfallOut])
async def volume_shortfall(
    caller: Caller, request: Request,
    year: int = Query(ge=2000, le=2100, description="agreement years (or, for contracts without yearly agreements, cycles) ending in this year"),
) -> list[s.ShortfallOut]:
    """Year-end shortfall per institution (Guizhou §五(五): next year's insurance budget is reduced).

    Each yearly agreement ending in ``year``, with the agreed volume in force at its end (after amendments),
    against the quantity accepted within it less returns, each counted up to its agreed volume, so a surplus
    of one drug never offsets another's shortfall (contracts without agreements: their cycle).
    """
    caller.require(Role.OPERATOR, Role.FUND)

    async def read(uow: UnitOfWork) -> list[vs.VolumeState]:
        ids = [r["institution_id"] for r in await queries.list_rows(uow, t.volume_institutions)]
        return [vs.fold(i, (await volume_repo.load_volume(uow, i))[0]) for i in ids]

    states = await query(request.app.state.runtime, read)
    report: dict[str, dict[str, Any]] = {}
    for state in states:
        for y, agreed, counted in vp.year_end_counts(state, year):
            row = report.setdefault(state.institution_id, {
                "institution_id": state.institution_id, "agreed_quantity": 0, "accepted_quantity": 0, "shortfall_quantity": 0,
                "agreed_amount": Decimal("0"), "accepted_amount": Decimal("0"), "shortfall_amount": Decimal("0"), "contracts": 0,
            })
            row["agreed_quantity"] += agreed
            row["accepted_quantity"] += counted
            row["shortfall_quantity"] += agreed - counted
            row["agreed_amount"] += agreed * y.unit_price
            row["accepted_amount"] += counted * y.unit_price
            row["shortfall_amount"] += (agreed - counted) * y.unit_price
            row["contracts"] += 1
    return [
        s.ShortfallOut.model_validate({**r, **{k: r[k].quantize(CENT) for k in ("agreed_amount", "accepted_amount", "shortfall_amount")}})
        for r in report.values()
    ]
