"""Filing purchases (备案采购) and an institution's yearly filing amount against its warning line."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import execute, query
from jicai_kit.problems import invalid, not_found
from jicai_orders.adapters.policy import policy_book
from jicai_orders.application import services
from jicai_orders.domain import filing
from jicai_orders.entrypoints import schemas as s
from jicai_orders.entrypoints.common import InstitutionId, decidable, visible_to
from jicai_policy import PolicyError

router = APIRouter()


async def _standing(request: Request, institution_id: str, year: int) -> tuple[filing.Standing, list[dict[str, Any]]]:
    try:
        found = await query(request.app.state.runtime, lambda uow: services.filing_standing(uow, institution_id, year, policy_book()))
    except PolicyError as exc:
        raise invalid("year", str(exc)) from exc
    if found is None:
        raise not_found("institution with a contract known to orders", institution_id)
    return found


@router.post("/filing-purchases", tags=["filing purchases"], status_code=201, response_model=s.FilingRecorded)
async def record_filing_purchase(body: s.FilingPurchaseIn, caller: Caller, request: Request, response: Response) -> s.FilingRecorded:
    """Record a filing purchase (备案采购) of the institution, with its filing amount in that year against the profile's warning line.

    201 when recorded, 200 when it repeats the identical filing, 409 when the filing id is taken with different content.
    """
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    caller.require_party(body.institution_id, f"the filing purchases of institution {body.institution_id}")
    await decidable(request, {"purchased_on": body.purchased_on, "filed_on": body.filed_on}, institution_id=body.institution_id)
    cmd = filing.RecordFiling(**body.model_dump())

    async def command(uow: UnitOfWork) -> tuple[bool, filing.Standing | None]:
        # The standing is read in the same transaction, so nothing fails after the commit that the answer must explain.
        created = await services.record_filing_purchase(uow, cmd)
        found = await services.filing_standing(uow, body.institution_id, body.purchased_on.year, policy_book())
        return created, found[0] if found else None

    created, standing = await execute(request.app.state.runtime, command)
    if standing is None:
        raise not_found("institution with a contract known to orders", body.institution_id)
    response.status_code = 201 if created else 200
    return s.FilingRecorded(id=body.filing_id, created=created, standing=s.FilingStanding(**vars(standing)))


@router.get("/institutions/{institution_id}/filing-purchases", tags=["filing purchases"], response_model=s.FilingYear)
async def list_filing_purchases(
    institution_id: InstitutionId, caller: Caller, request: Request, year: Annotated[int, Query(ge=2000, le=2100)]
) -> s.FilingYear:
    """The institution's filing purchases in ``year`` and their amount against the warning line; the institution itself, operators and the fund."""
    visible_to(caller, institution_id, owners=())
    standing, rows = await _standing(request, institution_id, year)
    return s.FilingYear(**vars(standing), institution_id=institution_id, filings=[s.FilingPurchase(**row) for row in rows])
