"""What the contracts endpoints share: the business-date check, one-row readers, a listing narrowed to the caller's own
rows, and rows made JSON-ready."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Table

from jicai_contracts.adapters import repository as repo
from jicai_contracts.adapters import tables as t
from jicai_contracts.adapters.policy import policy_book
from jicai_kit.auth import SEES_ALL, Caller, Principal
from jicai_kit.commands import query
from jicai_kit.problems import not_found
from jicai_kit.validity import check_dates


async def decidable(
    request: Request, facts: dict[str, date | None], *, region: str | None = None, of: tuple[Table, str] | None = None,
    terms: dict[str, date | None] | None = None, region_field: str | None = None,
) -> None:
    """422 naming every business date no consumer could decide on; ``of``: the row (table, key) whose region it is;
    ``region_field``: the field naming the region (refused once if no profile covers it)."""
    if of is not None:
        row = await query(request.app.state.runtime, lambda uow: repo.find(uow, *of))
        region = row["pooling_region_code"] if row else None
    check_dates(request.app.state.settings, policy_book(), region, facts, terms, region_field=region_field)


def reader(table: Table, what: str) -> Callable[[str, Principal, Request], Awaitable[dict[str, Any]]]:
    """The GET endpoint of one row of ``table`` (404 naming ``what`` when there is none)."""

    async def get_one(key: str, caller: Caller, request: Request) -> dict[str, Any]:
        row = await query(request.app.state.runtime, lambda uow: repo.find(uow, table, key))
        if row is None:
            raise not_found(what, key)
        if table is t.contracts:  # parties and products are reference data; a contract is its parties' business
            caller.may_read(what=f"contract {key}", institution_id=row["institution_id"],
                            distributor_id=row["distributor_id"], manufacturer_id=row["manufacturer_id"])
        return jsonable(row)

    return get_one


def add_readers(router: APIRouter, tag: str, *rows: tuple[str, Table, str]) -> None:
    """A GET endpoint per (path, table, what) reading one row by its key, named ``One <what>``."""
    for path, table, what in rows:
        router.add_api_route(path, reader(table, what), methods=["GET"], tags=[tag], summary=f"One {what}")


def jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its decimals as strings, as the API writes quantities and money."""
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}


def own_filters(caller: Caller, filters: dict[str, str]) -> dict[str, str] | None:
    """A listing's filters narrowed to the caller's own records; None when they ask for another party's (nothing to see)."""
    if caller.role in SEES_ALL:
        return filters
    owner = f"{caller.role.value}_id"
    if filters.get(owner, caller.party_id) != caller.party_id:
        return None
    return filters | {owner: caller.party_id}
