"""Purchases outside a VBP contract (non-winning products, offline purchases) an institution's HIS reports, and their list."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from jicai_events.catalog.orders import Channel
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller
from jicai_kit.commands import execute, query
from jicai_orders.adapters import repository as repo
from jicai_orders.adapters import tables as t
from jicai_orders.application import services
from jicai_orders.domain import purchase
from jicai_orders.entrypoints import schemas as s
from jicai_orders.entrypoints.common import InstitutionId, Limit, Offset, check_external_ids, decidable_in, pushed_by_his, visible_to

router = APIRouter()


@router.post(
    "/institutions/{institution_id}/purchases:batch",
    tags=["purchases"],
    response_model=s.PurchaseBatchResult,
    response_model_exclude_none=True,
)
async def push_purchases(
    institution_id: Annotated[str, Depends(pushed_by_his("purchases"))], body: s.PurchaseBatchIn, request: Request
) -> s.PurchaseBatchResult:
    """Record a HIS report of purchases that are not acceptances against a VBP contract, 1..1000 lines.

    Non-winning products (非中选) of a generic group, bought on the platform or
    offline, and winning products bought offline (线下采购). Each line is
    converted to its group's base unit and decided on its own: ``accepted``,
    ``duplicate`` (a retry counts once) or ``rejected`` with the reason.
    Input the schema refuses rejects the whole report with 422 and records nothing.
    """
    check_external_ids(institution_id, [line.external_id for line in body.lines])
    facts: dict[str, date | None] = {f"lines[{i}].purchased_on": line.purchased_on for i, line in enumerate(body.lines)}
    lines = [
        purchase.PurchaseLine(
            external_id=line.external_id, product_id=line.product_id, quantity=line.quantity,
            unit_price=line.unit_price, purchased_on=line.purchased_on, channel=line.channel,
        )
        for line in body.lines
    ]

    async def report(uow: UnitOfWork) -> list[purchase.Decision]:
        return await services.push_purchases(uow, institution_id, lines, decidable_in(request, facts))

    decisions = await execute(request.app.state.runtime, report)
    results = [_purchase_result(line, decision) for line, decision in zip(lines, decisions, strict=True)]
    return s.PurchaseBatchResult(
        results=results,
        accepted=sum(r.status == "accepted" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
    )


def _purchase_result(line: purchase.PurchaseLine, decision: purchase.Decision) -> s.PurchaseLineResult:
    if isinstance(decision, purchase.Recorded):
        return s.PurchaseLineResult(external_id=line.external_id, status="accepted", purchase_id=decision.event.purchase_id)
    if isinstance(decision, purchase.Duplicate):
        return s.PurchaseLineResult(external_id=line.external_id, status="duplicate", purchase_id=decision.purchase_id)
    return s.PurchaseLineResult(external_id=line.external_id, status="rejected", reason=decision.reason)


@router.get("/institutions/{institution_id}/purchases", tags=["purchases"], response_model=list[s.Purchase])
async def list_purchases(
    institution_id: InstitutionId, caller: Caller, request: Request, channel: Channel | None = None,
    generic_group_id: str | None = None, limit: Limit = 500, offset: Offset = 0,
) -> list[dict[str, Any]]:
    """An institution's non-contract purchases (non-winning, offline) by purchase date; the institution itself, operators and the fund."""
    filters = visible_to(caller, institution_id, owners=())
    if channel:
        filters["channel"] = channel
    if generic_group_id:
        filters["generic_group_id"] = generic_group_id
    return await query(
        request.app.state.runtime,
        lambda uow: repo.list_rows(
            uow, t.purchases, order_by=("purchased_on", "purchase_id"), limit=limit, offset=offset,
            institution_id=institution_id, **filters,
        ),
    )
