"""HTTP API of the settlement service.

Institutions record their payments (回款); the fund's information system
reports monthly settlements (医保月结算). Every party reads only its own
records; operators and the fund read all.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Principal, Role
from jicai_kit.commands import Recorded, execute, query, record
from jicai_kit.problems import invalid, not_found
from jicai_kit.validity import check_dates, first_of
from jicai_settlement.adapters import repository as repo
from jicai_settlement.adapters import tables as t
from jicai_settlement.adapters.policy import policy_book
from jicai_settlement.application import prepayments, services
from jicai_settlement.domain import prepayment
from jicai_settlement.domain.errors import DomainRuleViolated
from jicai_settlement.domain.institution_settlement import ReportMonthlySettlement, combined_status
from jicai_settlement.domain.invoice import ZERO
from jicai_settlement.domain.payment import AllocationIn, RecordPayment
from jicai_settlement.entrypoints import schemas as s

router = APIRouter()


def _created(response: Response, created: bool) -> None:
    response.status_code = 201 if created else 200


async def _decidable(request: Request, institution_id: str, facts: dict[str, date | None], *, known: bool = True) -> None:
    """422 unless every business date is decidable and (``known``) the institution is known here (a contract or invoice of it was received).

    An institution's own payment names its invoices, whose refusal says more than "unknown institution".
    """
    found, region = await query(request.app.state.runtime, lambda uow: repo.institution_known(uow, institution_id))
    if not found and known:
        raise invalid("institution_id", f"unknown institution {institution_id}: settlement has received no contract, invoice or decision of it")
    check_dates(request.app.state.settings, policy_book(), region, facts, region_field="institution_id")


def _may_read(caller: Principal, institution_id: str, distributor_id: str | None = None) -> None:
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id, distributor_id=distributor_id)


@router.post("/payments", tags=["payments"], status_code=201, response_model=Recorded)
async def record_payment(body: s.PaymentIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Record a payment (回款) of an institution to a distributor, allocated to its invoices.

    Partial payments are allowed; an allocation beyond an invoice's outstanding amount is refused.
    """
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    caller.require_party(body.institution_id, "the payment")
    await _decidable(request, body.institution_id, {"paid_on": body.paid_on}, known=False)
    cmd = RecordPayment(
        payment_id=body.payment_id, institution_id=body.institution_id, distributor_id=body.distributor_id,
        paid_on=body.paid_on, amount=body.amount, reference=body.reference,
        allocations=tuple(AllocationIn(a.invoice_id, a.amount) for a in body.allocations),
    )
    return await record(request.app.state.runtime, response, body.payment_id, lambda uow: services.record_payment(uow, cmd))


@router.post("/monthly-settlements", tags=["monthly settlements"], status_code=201, response_model=s.MonthlySettlementRecorded)
async def report_monthly_settlement(
    body: s.MonthlySettlementIn, caller: Caller, request: Request, response: Response
) -> s.MonthlySettlementRecorded:
    """Report an institution's monthly settlement (医保月结算): ``withheld`` while a withhold is active, else ``issued``."""
    caller.require(Role.FUND, Role.OPERATOR)
    await _decidable(request, body.institution_id, {"month": first_of(body.month)})
    cmd = ReportMonthlySettlement(**body.model_dump())
    created, status = await execute(request.app.state.runtime, lambda uow: services.report_monthly_settlement(uow, cmd))
    _created(response, created)
    return s.MonthlySettlementRecorded(id=body.settlement_id, created=created, status=status)  # type: ignore[arg-type]


@router.get("/payments/{payment_id}", tags=["payments"], response_model=s.PaymentOut)
async def get_payment(payment_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    row = await query(request.app.state.runtime, lambda uow: repo.payment_with_allocations(uow, payment_id))
    if row is None:
        raise not_found("payment", payment_id)
    _may_read(caller, row["institution_id"], row["distributor_id"])
    return row


@router.get("/institutions/{institution_id}/payments", tags=["payments"], response_model=list[s.PaymentOut])
async def list_payments(institution_id: str, caller: Caller, request: Request) -> list[dict[str, Any]]:
    _may_read(caller, institution_id)
    return await query(request.app.state.runtime, lambda uow: repo.payments_of(uow, institution_id))


@router.get("/invoices/{invoice_id}", tags=["payments"], response_model=s.InvoiceOut)
async def get_invoice(invoice_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """An invoice as settlement knows it: amount, what it asks for after 红冲 (``amount_due``), paid, outstanding.

    ``refundable_credit``: paid beyond ``amount_due`` (a credit note or void after payment).
    """
    row = await query(request.app.state.runtime, lambda uow: repo.invoice_with_payments(uow, invoice_id))
    if row is None:
        raise not_found("invoice", invoice_id)
    _may_read(caller, row["institution_id"], row["distributor_id"])
    return _invoice_out(row)


def _invoice_out(row: dict[str, Any]) -> dict[str, Any]:
    due, paid = row["amount_due"], row["paid"]
    outstanding, refundable = max(due - paid, ZERO), max(paid - due, ZERO)
    status = "voided" if row["voided_on"] is not None else "paid" if outstanding == 0 else "unpaid" if paid == 0 else "partially_paid"
    return {**row, "outstanding": outstanding, "refundable_credit": refundable, "status": status}


@router.get("/institutions/{institution_id}/refundable-credits", tags=["payments"], response_model=s.RefundableCreditsOut)
async def refundable_credits(institution_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """Invoices the institution paid beyond what they ask for after credit notes or voids (红冲): owed back to it.

    Settlement only shows the excess; the refund itself is between the institution and the distributor.
    """
    _may_read(caller, institution_id)
    rows = await query(request.app.state.runtime, lambda uow: repo.overpaid_invoices(uow, institution_id))
    invoices = [_invoice_out(r) for r in rows]
    total = sum((i["refundable_credit"] for i in invoices), ZERO)
    return {"institution_id": institution_id, "refundable_credit": total, "invoices": invoices}


@router.get(
    "/institutions/{institution_id}/settlement-status", tags=["monthly settlements"], response_model=s.SettlementStatusOut
)
async def settlement_status(institution_id: str, caller: Caller, request: Request) -> s.SettlementStatusOut:
    """Whether the institution's monthly settlement is withheld (暂缓拨付) or suspended (暂停, R3) now, why, and since when.

    ``status``: ``withheld``, ``suspended``, ``withheld_and_suspended`` or ``normal``.
    """
    _may_read(caller, institution_id)
    table, st = t.withholds, t.suspensions

    async def read(uow: UnitOfWork) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return (
            await repo.list_rows(uow, table, table.c.withheld_from, table.c.decision_id, institution_id=institution_id),
            await repo.list_rows(uow, st, st.c.suspended_from, st.c.decision_id, institution_id=institution_id),
        )

    rows, suspension_rows = await query(request.app.state.runtime, read)
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
    _may_read(caller, institution_id)
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
    await _decidable(request, body.institution_id, {"paid_on": body.paid_on})
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
    _may_read(caller, institution_id)
    d = t.direct_settlement_deductions
    return await query(request.app.state.runtime, lambda uow: repo.list_rows(uow, d, d.c.paid_on, d.c.payment_id, institution_id=institution_id))


# ---- prepayments (医保预付, R5) -------------------------------------------------------------


@router.get("/institutions/{institution_id}/prepayments/{year}", tags=["prepayments"], response_model=s.PrepaymentScheduleOut)
async def prepayment_schedule(
    institution_id: str, year: int, caller: Caller, request: Request, as_of: date | None = None,
    last_year_average_monthly_fund_payment: Annotated[Decimal | None, Query(ge=0, max_digits=16, decimal_places=2)] = None,
) -> s.PrepaymentScheduleOut:
    """The prepayment schedule of the institution's agreements starting in ``year``, as of ``as_of`` (default today).

    Each phase: its floor from the profile, when it becomes due and by which trigger, disbursed, shortfall.
    ``last_year_average_monthly_fund_payment`` (Guizhou) overrides the amount the schedule would use.
    """
    _may_read(caller, institution_id)
    book, on = policy_book(), as_of or prepayments.today()
    try:
        loaded = await query(request.app.state.runtime, lambda uow: prepayments.load(uow, book, institution_id, year,
                                                                                     last_year_average_monthly_fund_payment))
    except DomainRuleViolated as exc:
        raise invalid(exc.field, exc.reason) from exc
    if loaded is None:
        raise not_found("prepayment schedule", prepayment.schedule_id(institution_id, year))
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
    views = prepayment.view(prepayment.instalments(section, loaded.basis), loaded.state, on)
    state = loaded.state
    return s.PrepaymentScheduleOut(
        schedule_id=prepayment.schedule_id(institution_id, year), institution_id=institution_id, year=year, as_of=on,
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
    await _decidable(request, body.institution_id, {"disbursed_on": body.disbursed_on})
    cmd = prepayment.Disburse(**body.model_dump())
    book = policy_book()
    return await record(request.app.state.runtime, response, body.disbursement_id, lambda uow: prepayments.disburse(uow, book, cmd))


@router.post("/prepayment-liquidations", tags=["prepayments"], status_code=201, response_model=Recorded)
async def liquidate_prepayments(body: s.LiquidationIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Liquidate (清算) the year's prepayments at the cycle end: prepaid against the invoices after 红冲 → to return or to top up."""
    caller.require(Role.FUND, Role.OPERATOR)
    await _decidable(request, body.institution_id, {"liquidated_on": body.liquidated_on})
    cmd = prepayment.Liquidate(**body.model_dump())
    book = policy_book()
    return await record(request.app.state.runtime, response, body.liquidation_id, lambda uow: prepayments.liquidate(uow, book, cmd))
