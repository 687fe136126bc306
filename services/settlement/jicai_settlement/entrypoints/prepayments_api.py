"""Prepayments (医保预付, R5): each institution's schedule, the fund's worklist, disbursements and the liquidation."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, query, record
from jicai_kit.problems import invalid, not_found
from jicai_settlement.adapters.policy import policy_book
from jicai_settlement.application import prepayments
from jicai_settlement.domain import prepayment
from jicai_settlement.domain import prepayment_schedule as schedule
from jicai_settlement.domain.errors import DomainRuleViolated
from jicai_settlement.entrypoints import schemas as s
from jicai_settlement.entrypoints.preconditions import decidable, may_read

router = APIRouter()


@router.get("/institutions/{institution_id}/prepayments/{year}", tags=["prepayments"], response_model=s.PrepaymentScheduleOut)
async def prepayment_schedule(
    institution_id: str, year: int, caller: Caller, request: Request, as_of: date | None = None,
    last_year_average_monthly_fund_payment: Annotated[Decimal | None, Query(ge=0, max_digits=16, decimal_places=2)] = None,
) -> s.PrepaymentScheduleOut:
    """The prepayment schedule of the institution's agreements starting in ``year``, as of ``as_of`` (default today).

    Each phase: its floor from the profile, when it becomes due and by which trigger, disbursed, shortfall.
    ``last_year_average_monthly_fund_payment`` (Guizhou) overrides the amount the schedule would use.
    """
    may_read(caller, institution_id)
    book, on = policy_book(), as_of or prepayments.today()
    try:
        loaded = await query(request.app.state.runtime, lambda uow: prepayments.load(uow, book, institution_id, year,
                                                                                     last_year_average_monthly_fund_payment))
    except DomainRuleViolated as exc:
        raise invalid(exc.field, exc.reason) from exc
    if loaded is None:
        raise not_found("prepayment schedule", schedule.schedule_id(institution_id, year))
    return _schedule_out(loaded, institution_id, year, on)


@router.get("/prepayments", tags=["prepayments"], response_model=list[s.PrepaymentScheduleOut])
async def prepayment_schedules(
    year: Annotated[int, Query(ge=2000, le=2100, description="agreements starting in this calendar year")], caller: Caller, request: Request,
    pooling_region_code: Annotated[str | None, Query(pattern=r"^[0-9]{6}$", description="only this 统筹区")] = None,
    as_of: date | None = None,
    shortfall_only: Annotated[bool, Query(description="only schedules with a phase due and not fully disbursed")] = False,
) -> list[s.PrepaymentScheduleOut]:
    """The fund's worklist (医保预付): every institution's schedule of ``year``, as the per-institution view shows it."""
    caller.require(Role.FUND, Role.OPERATOR)
    book, on = policy_book(), as_of or prepayments.today()
    loaded = await query(request.app.state.runtime, lambda uow: prepayments.load_year(uow, book, year, pooling_region_code))
    schedules = [_schedule_out(one, institution_id, year, on) for institution_id, one in loaded]
    return [x for x in schedules if not shortfall_only or any(i.due and i.shortfall > 0 for i in x.instalments)]


def _schedule_out(loaded: prepayments.Loaded, institution_id: str, year: int, on: date) -> s.PrepaymentScheduleOut:
    section = prepayment.require_prepayment(loaded.profile, loaded.region)
    views = schedule.view(schedule.instalments(section, loaded.basis), loaded.state, on)
    state = loaded.state
    return s.PrepaymentScheduleOut(
        schedule_id=schedule.schedule_id(institution_id, year), institution_id=institution_id, year=year, as_of=on,
        profile_id=loaded.profile.profile_id, profile_version=loaded.profile.version, source=section.source,
        procurement_budget=loaded.basis.budget, agreements=sorted(state.agreements), earmarked=section.earmarked,
        cycle_end=loaded.basis.cycle_end,
        instalments=[s.InstalmentOut(**{**v.__dict__, "triggers": list(v.triggers)}, shortfall=v.shortfall) for v in views],
        disbursed=state.disbursed(),
        disbursements=[s.DisbursementOut.model_validate(d.model_dump()) for d in state.disbursements.values()],
        liquidation=s.LiquidationOut.model_validate(state.liquidation.model_dump()) if state.liquidation else None,
    )


@router.post("/prepayment-disbursements", tags=["prepayments"], status_code=201, response_model=Recorded)
async def disburse_prepayment(body: s.DisbursementIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Record the fund's disbursement (拨付预付款) of one phase; refused before the phase is due, or below its floor unless ``partial``."""
    caller.require(Role.FUND, Role.OPERATOR)
    await decidable(request, body.institution_id, {"disbursed_on": body.disbursed_on})
    cmd = prepayment.Disburse(**body.model_dump())
    book = policy_book()
    return await record(request.app.state.runtime, response, body.disbursement_id, lambda uow: prepayments.disburse(uow, book, cmd))


@router.post("/prepayment-liquidations", tags=["prepayments"], status_code=201, response_model=Recorded)
async def liquidate_prepayments(body: s.LiquidationIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Liquidate (清算) the year's prepayments at the cycle end: prepaid against the invoices after 红冲 → to return or to top up."""
    caller.require(Role.FUND, Role.OPERATOR)
    await decidable(request, body.institution_id, {"liquidated_on": body.liquidated_on})
    cmd = prepayment.Liquidate(**body.model_dump())
    book = policy_book()
    return await record(request.app.state.runtime, response, body.liquidation_id, lambda uow: prepayments.liquidate(uow, book, cmd))
