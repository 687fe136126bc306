"""Monthly settlements (医保月结算) the fund's information system reports, whether they are withheld (暂缓拨付) or
suspended (暂停), and the direct settlements (直接结算) deducted from them.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, execute, query, read_rows, record
from jicai_kit.validity import first_of
from jicai_settlement.adapters import repository as repo
from jicai_settlement.adapters import tables as t
from jicai_settlement.adapters.policy import policy_book
from jicai_settlement.application import services
from jicai_settlement.domain.institution_settlement import ReportMonthlySettlement
from jicai_settlement.domain.invoice import ZERO
from jicai_settlement.domain.payment import AllocationIn, RecordPayment
from jicai_settlement.domain.settlement_state import combined_status
from jicai_settlement.entrypoints import schemas as s
from jicai_settlement.entrypoints.preconditions import decidable, may_read

router = APIRouter()


def _created(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


@router.post("/monthly-settlements", tags=["monthly settlements"], status_code=201, response_model=s.MonthlySettlementRecorded)
async def report_monthly_settlement(
    body: s.MonthlySettlementIn, caller: Caller, request: Request, response: Response
) -> s.MonthlySettlementRecorded:
    """Report an institution's monthly settlement (医保月结算): ``withheld`` while a withhold is active, else ``issued``."""
    caller.require(Role.FUND, Role.OPERATOR)
    await decidable(request, body.institution_id, {"month": first_of(body.month)})
    cmd = ReportMonthlySettlement(**body.model_dump())
    created, status = await execute(request.app.state.runtime, lambda uow: services.report_monthly_settlement(uow, cmd))
    _created(response, created)
    return s.MonthlySettlementRecorded(id=body.settlement_id, created=created, status=status)


@router.get(
    "/institutions/{institution_id}/settlement-status", tags=["monthly settlements"], response_model=s.SettlementStatusOut
)
async def settlement_status(institution_id: str, caller: Caller, request: Request) -> s.SettlementStatusOut:
    """Whether the institution's monthly settlement is withheld (暂缓拨付) or suspended (暂停, R3) now, why, and since when.

    ``status``: ``withheld``, ``suspended``, ``withheld_and_suspended`` or ``normal``.
    """
    may_read(caller, institution_id)
    rows, suspension_rows = await read_rows(request.app.state.runtime, lambda connection: repo.settlement_status_rows(connection, institution_id))
    suspensions = [s.SuspensionOut.model_validate(r) for r in suspension_rows]
    active_suspensions = [x for x in suspensions if x.resumed_on is None]
    active = [s.WithholdOut.model_validate(r) for r in rows if r["released_on"] is None]
    history: list[s.HistoryEntry] = []
    for r in rows:
        history.append(s.HistoryEntry(kind="withheld", on=r["withheld_from"], decision_id=r["decision_id"],
                                      withhold_decision_id=r["decision_id"], invoice_id=r["invoice_id"]))
        if r["released_on"] is not None:
            history.append(s.HistoryEntry(kind="released", on=r["released_on"], decision_id=r["release_decision_id"],
                                          withhold_decision_id=r["decision_id"], invoice_id=r["invoice_id"]))
    history.sort(key=lambda h: (h.on, h.kind == "released"))
    return s.SettlementStatusOut(
        institution_id=institution_id, status=combined_status(bool(active), bool(active_suspensions)), active_withholds=active,
        history=history, active_suspensions=active_suspensions, suspensions=suspensions,
    )


@router.get("/institutions/{institution_id}/monthly-settlements", tags=["monthly settlements"],
            response_model=list[s.MonthlySettlementOut])
async def list_monthly_settlements(institution_id: str, caller: Caller, request: Request) -> list[dict[str, Any]]:
    """Monthly settlements with their status (issued, withheld, suspended, released) and the reason.

    Direct settlements (直接结算) the fund paid in a month are deducted from that month's settlement (the first one
    reported, when there are several): ``amount`` as reported, ``direct_settlement_deductions``, ``net_paid``
    (negative when the fund paid distributors more than the month's settlement).
    """
    may_read(caller, institution_id)
    table, d = t.monthly_settlements, t.direct_settlement_deductions

    async def read(uow: UnitOfWork) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return (
            await repo.list_rows(uow, table, table.c.month, table.c.settlement_id, institution_id=institution_id),
            await repo.list_rows(uow, d, d.c.paid_on, d.c.payment_id, institution_id=institution_id),
        )

    settlements, deductions = await query(request.app.state.runtime, read)
    by_month: dict[str, Decimal] = {}
    for row in deductions:
        by_month[row["month"]] = by_month.get(row["month"], ZERO) + row["amount"]
    out = []
    for row in settlements:
        deducted = by_month.pop(row["month"], ZERO)
        out.append({**row, "direct_settlement_deductions": deducted, "net_paid": row["amount"] - deducted})
    return out


@router.post("/direct-settlements", tags=["monthly settlements"], status_code=201, response_model=Recorded)
async def record_direct_settlement(body: s.PaymentIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Direct settlement (直接结算): the fund pays a distributor for an institution's VBP invoices.

    Recorded as a payment with payer ``insurance_fund`` (published as ``PaymentRecorded``) and deducted from the
    institution's monthly settlement of the month paid; refused where the pooling region's profile does not allow it.
    """
    caller.require(Role.FUND, Role.OPERATOR)
    await decidable(request, body.institution_id, {"paid_on": body.paid_on})
    cmd = RecordPayment(
        payment_id=body.payment_id, institution_id=body.institution_id, distributor_id=body.distributor_id,
        paid_on=body.paid_on, amount=body.amount, reference=body.reference, payer="insurance_fund",
        allocations=tuple(AllocationIn(a.invoice_id, a.amount) for a in body.allocations),
    )
    profile_of = policy_book().profile_for
    return await record(request.app.state.runtime, response, body.payment_id, lambda uow: services.record_payment(uow, cmd, profile_of))


@router.get("/institutions/{institution_id}/direct-settlements", tags=["monthly settlements"],
            response_model=list[s.DirectSettlementOut])
async def list_direct_settlements(institution_id: str, caller: Caller, request: Request) -> list[dict[str, Any]]:
    """Direct settlements (直接结算) paid for the institution, with the month whose settlement they are deducted from."""
    may_read(caller, institution_id)
    d = t.direct_settlement_deductions
    return await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, d, d.c.paid_on, d.c.payment_id, institution_id=institution_id))
