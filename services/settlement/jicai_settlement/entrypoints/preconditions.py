"""What every settlement endpoint checks before it acts: the caller may read the institution, its dates are decidable."""
from __future__ import annotations

from datetime import date

from fastapi import Request

from jicai_kit.auth import Principal
from jicai_kit.commands import query
from jicai_kit.problems import invalid
from jicai_kit.validity import check_dates
from jicai_settlement.adapters import repository as repo
from jicai_settlement.adapters.policy import policy_book


async def decidable(request: Request, institution_id: str, facts: dict[str, date | None], *, known: bool = True) -> None:
    """422 unless every business date is decidable and (``known``) the institution is known here (a contract or invoice of it was received).

    An institution's own payment names its invoices, whose refusal says more than "unknown institution".
    """
    found, region = await query(request.app.state.runtime, lambda uow: repo.institution_known(uow, institution_id))
    if not found and known:
        raise invalid("institution_id", f"unknown institution {institution_id}: settlement has received no contract, invoice or decision of it")
    check_dates(request.app.state.settings, policy_book(), region, facts, region_field="institution_id")


def may_read(caller: Principal, institution_id: str, distributor_id: str | None = None) -> None:
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id, distributor_id=distributor_id)
