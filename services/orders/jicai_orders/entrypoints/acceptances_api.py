"""Acceptances (验收): HIS pushes of receipt checks, one acceptance, an institution's list, and returns (退货) against one."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, execute, query, record
from jicai_orders.adapters import repository as repo
from jicai_orders.adapters import tables as t
from jicai_orders.application import services
from jicai_orders.domain import returns
from jicai_orders.domain.acceptance import AcceptanceLine, Accepted, Decision, Duplicate
from jicai_orders.entrypoints import schemas as s
from jicai_orders.entrypoints.common import InstitutionId, Limit, Offset, check_external_ids, decidable, decidable_in, found, may_see, pushed_by_his, visible_to

router = APIRouter()


@router.post(
    "/institutions/{institution_id}/acceptances:batch",
    tags=["acceptances"],
    response_model=s.BatchResult,
    response_model_exclude_none=True,
)
async def push_acceptances(
    institution_id: Annotated[str, Depends(pushed_by_his("acceptances"))], body: s.AcceptanceBatchIn, request: Request
) -> s.BatchResult:
    """Record a HIS push of receipt checks (验收), 1..1000 lines, in one transaction.

    Each line is decided on its own: ``accepted`` (recorded now), ``duplicate``
    (recorded by an earlier push with the same content: a retry counts once) or
    ``rejected`` with the reason (nothing recorded for that line). Input the
    schema refuses rejects the whole push with 422 and records nothing.
    """
    lines = _lines(institution_id, body)
    facts: dict[str, date | None] = {f"lines[{i}].accepted_on": line.accepted_on for i, line in enumerate(lines)}

    async def push(uow: UnitOfWork) -> list[Decision]:
        return await services.push_acceptances(uow, institution_id, lines, decidable_in(request, facts))

    decisions = await execute(request.app.state.runtime, push)
    results = [_result(line, decision) for line, decision in zip(lines, decisions, strict=True)]
    return s.BatchResult(
        results=results,
        accepted=sum(r.status == "accepted" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
    )


def _lines(institution_id: str, body: s.AcceptanceBatchIn) -> list[AcceptanceLine]:
    check_external_ids(institution_id, [line.external_id for line in body.lines])
    return [
        AcceptanceLine(
            external_id=line.external_id,
            contract_id=line.contract_id,
            accepted_quantity=line.accepted_quantity,
            rejected_quantity=line.rejected_quantity,
            rejection_reason=line.rejection_reason,
            accepted_on=line.accepted_on,
            lot_number=line.lot_number,
            channel=line.channel,
            order_id=line.order_id,
            product_id=line.product_id,
            unit_price=line.unit_price,
        )
        for line in body.lines
    ]


def _result(line: AcceptanceLine, decision: Decision) -> s.LineResult:
    if isinstance(decision, Accepted):
        return s.LineResult(external_id=line.external_id, status="accepted", acceptance_id=decision.event.acceptance_id)
    if isinstance(decision, Duplicate):
        return s.LineResult(external_id=line.external_id, status="duplicate", acceptance_id=decision.acceptance_id)
    return s.LineResult(external_id=line.external_id, status="rejected", reason=decision.reason)


@router.get("/acceptances/{acceptance_id}", tags=["acceptances"], response_model=s.Acceptance)
async def get_acceptance(acceptance_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """One acceptance, with the quantity invoiced so far."""
    row = found(await query(request.app.state.runtime, lambda uow: repo.find(uow, t.acceptances, acceptance_id)), "acceptance", acceptance_id)
    may_see(caller, row, "acceptance")
    return row


@router.post("/acceptances/{acceptance_id}/returns", tags=["acceptances"], status_code=201, response_model=Recorded)
async def return_delivery(acceptance_id: str, body: s.ReturnIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """The institution returns (退货) part of an accepted delivery; the returned units can no longer be invoiced.

    201 when recorded, 200 when it repeats the identical return, 409 when the
    return id is taken with different content; 422 when it exceeds accepted − already returned.
    """
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    row = found(await query(request.app.state.runtime, lambda uow: repo.find(uow, t.acceptances, acceptance_id)), "acceptance", acceptance_id)
    caller.require_party(row["institution_id"], f"the acceptances of institution {row['institution_id']}")
    await decidable(request, {"returned_on": body.returned_on}, region=row["pooling_region_code"])
    cmd = returns.ReturnDelivery(body.return_id, acceptance_id, body.returned_quantity, body.returned_on, body.reason)
    return await record(request.app.state.runtime, response, body.return_id, lambda uow: services.return_delivery(uow, cmd))


@router.get("/institutions/{institution_id}/acceptances", tags=["acceptances"], response_model=list[s.Acceptance])
async def list_acceptances(
    institution_id: InstitutionId, caller: Caller, request: Request, contract_id: str | None = None,
    limit: Limit = 500, offset: Offset = 0,
) -> list[dict[str, Any]]:
    """An institution's acceptances by acceptance date (a distributor or manufacturer sees only its own)."""
    filters = visible_to(caller, institution_id, owners=(Role.DISTRIBUTOR, Role.MANUFACTURER))
    if contract_id:
        filters["contract_id"] = contract_id
    return await query(
        request.app.state.runtime,
        lambda uow: repo.list_rows(
            uow, t.acceptances, order_by=("accepted_on", "acceptance_id"), limit=limit, offset=offset,
            institution_id=institution_id, **filters,
        ),
    )
