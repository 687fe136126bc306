"""Orders (订单): placed by an institution against its contracts, confirmed, shipped or cancelled, and read with their status."""
from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, execute, query, record
from jicai_orders.adapters import repository as repo
from jicai_orders.adapters import tables as t
from jicai_orders.application import services
from jicai_orders.domain import order
from jicai_orders.entrypoints import schemas as s
from jicai_orders.entrypoints.common import InstitutionId, Limit, Offset, decidable, found, may_see, visible_to

router = APIRouter()


@router.post("/orders", tags=["orders"], status_code=201, response_model=Recorded)
async def place_order(body: s.OrderIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Place an order (订单) against the institution's contracts, priced at their winning prices.

    201 when placed, 200 when it repeats the identical order, 409 when the
    order id is taken with different content. 422 names the line and field at
    fault, e.g. a stated product or price that is not the contract's.
    """
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    caller.require_party(body.institution_id, f"an order of institution {body.institution_id}")
    await decidable(request, {"placed_on": body.placed_on}, institution_id=body.institution_id)
    cmd = order.PlaceOrder(
        order_id=body.order_id, institution_id=body.institution_id, placed_on=body.placed_on,
        lines=tuple(order.OrderLine(line.contract_id, line.quantity, line.product_id, line.unit_price) for line in body.lines),
    )
    return await record(request.app.state.runtime, response, body.order_id, lambda uow: services.place_order(uow, cmd))


async def _advance(request: Request, caller: Caller, order_id: str, party: str, step: order.Step, facts: dict[str, date | None]) -> Recorded:
    """Run one lifecycle step for the order's own ``party`` (its distributor or institution) or an operator."""
    row = found(await query(request.app.state.runtime, lambda uow: repo.find(uow, t.orders, order_id)), "order", order_id)
    caller.require_party(row[f"{party}_id"], f"order {order_id}")
    await decidable(request, facts, region=row["pooling_region_code"])
    changed = await execute(request.app.state.runtime, lambda uow: services.advance_order(uow, order_id, step))
    return Recorded(id=order_id, created=changed)


@router.post("/orders/{order_id}/confirm", tags=["orders"], response_model=Recorded)
async def confirm_order(order_id: str, body: s.OrderConfirmIn, caller: Caller, request: Request) -> Recorded:
    """The order's distributor confirms it (确认). ``created`` is false when it was confirmed already on that date."""
    caller.require(Role.DISTRIBUTOR, Role.OPERATOR)
    return await _advance(request, caller, order_id, "distributor", partial(order.confirm, order_id=order_id, confirmed_on=body.confirmed_on),
                          {"confirmed_on": body.confirmed_on})


@router.post("/orders/{order_id}/ship", tags=["orders"], response_model=Recorded)
async def ship_order(order_id: str, body: s.OrderShipIn, caller: Caller, request: Request) -> Recorded:
    """The order's distributor ships it (配送); only a confirmed order ships."""
    caller.require(Role.DISTRIBUTOR, Role.OPERATOR)
    return await _advance(request, caller, order_id, "distributor", partial(order.ship, order_id=order_id, shipped_on=body.shipped_on),
                          {"shipped_on": body.shipped_on})


@router.post("/orders/{order_id}/cancel", tags=["orders"], response_model=Recorded)
async def cancel_order(order_id: str, body: s.OrderCancelIn, caller: Caller, request: Request) -> Recorded:
    """The institution cancels its order before it is shipped (409 once shipped)."""
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    step = partial(order.cancel, order_id=order_id, cancelled_on=body.cancelled_on, reason=body.reason)
    return await _advance(request, caller, order_id, "institution", step, {"cancelled_on": body.cancelled_on})


def _order_out(row: dict[str, Any]) -> dict[str, Any]:
    delivered = [order.Delivered(line["quantity"], line["accepted_quantity"], line["rejected_quantity"]) for line in row["lines"]]
    return {**row, "status": order.status(order.Status(row["stage"]), delivered).value}


@router.get("/orders/{order_id}", tags=["orders"], response_model=s.Order)
async def get_order(order_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """One order with its lines, the quantities delivered against them and its status."""
    row = found(await query(request.app.state.runtime, lambda uow: repo.order_with_lines(uow, order_id)), "order", order_id)
    may_see(caller, row, "order")
    return _order_out(row)


@router.get("/institutions/{institution_id}/orders", tags=["orders"], response_model=list[s.Order])
async def list_orders(
    institution_id: InstitutionId, caller: Caller, request: Request, limit: Limit = 500, offset: Offset = 0
) -> list[dict[str, Any]]:
    """An institution's orders by placing date (a distributor sees only its own)."""
    filters = visible_to(caller, institution_id, owners=(Role.DISTRIBUTOR,))

    async def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        rows = await repo.list_rows(
            uow, t.orders, order_by=("placed_on", "order_id"), limit=limit, offset=offset, institution_id=institution_id, **filters
        )
        return [_order_out(full) for r in rows if (full := await repo.order_with_lines(uow, r["order_id"])) is not None]

    return await query(request.app.state.runtime, read)
