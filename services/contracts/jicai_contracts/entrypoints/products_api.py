"""Products: winning products (中选药品), generic groups (同通用名 / 评审组) and non-winning products (非中选药品)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters import tables as t
from jicai_contracts.adapters.policy import policy_book
from jicai_contracts.application import services
from jicai_contracts.domain import events as e
from jicai_contracts.entrypoints import schemas as s
from jicai_contracts.entrypoints.common import add_readers, jsonable
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, query, record

router = APIRouter()


@router.post("/winning-products", tags=["products"], status_code=201, response_model=Recorded)
async def list_winning_product(body: s.WinningProductIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """List a winning product (中选药品) at its winning price (中选价格)."""
    caller.require(Role.OPERATOR)
    event = e.WinningProductListed(**body.model_dump())
    return await record(request.app.state.runtime, response, body.product_id, lambda uow: services.list_winning_product(uow, event, policy_book()))


@router.post("/generic-groups", tags=["products"], status_code=201, response_model=Recorded)
async def define_generic_group(body: s.GenericGroupIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Define a generic group (同通用名 / 评审组) of a batch and the base unit its quantities compare in."""
    caller.require(Role.OPERATOR)
    event = e.GenericGroupDefined(**body.model_dump())
    return await record(request.app.state.runtime, response, body.group_id, lambda uow: services.define_generic_group(uow, event))


@router.post("/non-winning-products", tags=["products"], status_code=201, response_model=Recorded)
async def list_non_winning_product(body: s.NonWinningProductIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """List a non-winning product (非中选药品) of a generic group, with its conversion to the group's base unit."""
    caller.require(Role.OPERATOR)
    event = e.NonWinningProductListed(**body.model_dump())
    return await record(request.app.state.runtime, response, body.product_id, lambda uow: services.list_non_winning_product(uow, event, policy_book()))


add_readers(
    router, "products",
    ("/winning-products/{key}", t.products, "winning product"),
    ("/generic-groups/{key}", t.generic_groups, "generic group"),
    ("/non-winning-products/{key}", t.non_winning_products, "non-winning product"),
)


@router.get("/generic-groups", tags=["products"], summary="Generic groups, optionally of one batch")
async def list_generic_groups(caller: Caller, request: Request, batch_id: str | None = None) -> list[dict[str, Any]]:
    filters = {"batch_id": batch_id} if batch_id else {}
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.generic_groups, **filters))
    return [jsonable(r) for r in rows]


@router.get("/non-winning-products", tags=["products"], summary="Non-winning products, optionally of one generic group")
async def list_non_winning_products(caller: Caller, request: Request, generic_group_id: str | None = None) -> list[dict[str, Any]]:
    filters = {"generic_group_id": generic_group_id} if generic_group_id else {}
    rows = await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, t.non_winning_products, **filters))
    return [jsonable(r) for r in rows]
