"""What the orders endpoints share: path and paging parameters, who may see which rows,
and the business dates no consumer could decide on."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query, Request

from jicai_events.types import Identifier
from jicai_kit.auth import SEES_ALL, Caller, Principal, Role
from jicai_kit.commands import query
from jicai_kit.problems import forbidden, invalid_fields, not_found
from jicai_kit.validity import check_dates
from jicai_orders.adapters import repository as repo
from jicai_orders.adapters.policy import policy_book
from jicai_orders.domain.acceptance import MAX_ID_LENGTH, acceptance_id

InstitutionId = Annotated[Identifier, Path(description="the institution (医疗机构) id")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**63 - 1)]
T = TypeVar("T")


def pushed_by_his(records: str) -> Callable[[str, Principal], Awaitable[str]]:
    """A dependency answering the path's institution once the caller is that institution (its HIS) or an operator: only they
    push its ``records``."""

    async def institution(institution_id: InstitutionId, caller: Caller) -> str:
        caller.require(Role.INSTITUTION, Role.OPERATOR)
        caller.require_party(institution_id, f"the {records} of institution {institution_id}")
        return institution_id

    return institution


def found(row: T | None, what: str, key: str) -> T:
    """The row, or 404 naming ``what`` and ``key``."""
    if row is None:
        raise not_found(what, key)
    return row


async def decidable(request: Request, facts: dict[str, date | None], *, institution_id: str | None = None, region: str | None = None) -> None:
    """422 naming every business date no consumer could decide on (before the region's profiles, or in the future)."""
    field = None
    if region is None and institution_id is not None:
        region, field = await query(request.app.state.runtime, lambda uow: repo.pooling_region_of(uow, institution_id)), "institution_id"
    check_dates(request.app.state.settings, policy_book(), region, facts, region_field=field)


def decidable_in(request: Request, facts: dict[str, date | None]) -> Callable[[str | None], None]:
    """``decidable`` for a command that reads the institution's region itself (a HIS push: with its other reads, in its own unit of work)."""
    return lambda region: check_dates(request.app.state.settings, policy_book(), region, facts)


def check_external_ids(institution_id: str, external_ids: list[str]) -> None:
    """422 for external ids repeated within one push or too long to make a platform id."""
    errors: list[tuple[str, str]] = []
    first: dict[str, int] = {}
    for i, external_id in enumerate(external_ids):
        field = f"lines[{i}].external_id"
        if external_id in first:
            reason = f"repeats lines[{first[external_id]}].external_id; external ids are unique"
            errors.append((field, reason))
        first.setdefault(external_id, i)
        if len(acceptance_id(institution_id, external_id)) > MAX_ID_LENGTH:
            reason = f"too long: institution_id:external_id must fit in {MAX_ID_LENGTH} characters"
            errors.append((field, reason))
    if errors:
        raise invalid_fields(errors)


def may_see(caller: Principal, row: dict[str, Any], what: str) -> None:
    """403 unless the caller sees everything or is the row's institution, distributor or manufacturer."""
    caller.may_read(
        what=f"this {what}'s details", institution_id=row.get("institution_id"),
        distributor_id=row.get("distributor_id"), manufacturer_id=row.get("manufacturer_id"),
    )


def visible_to(caller: Principal, institution_id: str, *, owners: tuple[Role, ...]) -> dict[str, str]:
    """Filters that keep a listing to the caller's own records."""
    if caller.role in SEES_ALL:
        return {}
    if caller.role is Role.INSTITUTION:
        caller.require_party(institution_id, f"the records of institution {institution_id}")
        return {}
    if caller.role in owners:
        return {f"{caller.role.value}_id": caller.party_id}
    raise forbidden(f"role {caller.role.value} may not list these records")
