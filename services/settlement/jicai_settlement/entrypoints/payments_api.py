"""Payments (回款) of institutions to distributors, and the invoices they pay as settlement knows them.

Every party reads only its own records; operators and the fund read all.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_kit.auth import Caller, Role
from jicai_kit.commands import Recorded, query, record
from jicai_kit.problems import not_found
from jicai_settlement.adapters import repository as repo
from jicai_settlement.application import services
from jicai_settlement.domain.invoice import ZERO
from jicai_settlement.domain.payment import AllocationIn, RecordPayment
from jicai_settlement.entrypoints import schemas as s
from jicai_settlement.entrypoints.preconditions import decidable, may_read

router = APIRouter()


@router.post("/payments", tags=["payments"], status_code=201, response_model=Recorded)
async def record_payment(body: s.PaymentIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Record a payment (回款) of an institution to a distributor, allocated to its invoices.

    Partial payments are allowed; an allocation beyond an invoice's outstanding amount is refused.
    """
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    caller.require_party(body.institution_id, "the payment")
    await decidable(request, body.institution_id, {"paid_on": body.paid_on}, known=False)
    cmd = RecordPayment(
        payment_id=body.payment_id, institution_id=body.institution_id, distributor_id=body.distributor_id,
        paid_on=body.paid_on, amount=body.amount, reference=body.reference,
        allocations=tuple(AllocationIn(a.invoice_id, a.amount) for a in body.allocations),
    )
    return await record(request.app.state.runtime, response, body.payment_id, lambda uow: services.record_payment(uow, cmd))


@router.get("/payments/{payment_id}", tags=["payments"], response_model=s.PaymentOut)
async def get_payment(payment_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    row = await query(request.app.state.runtime, lambda uow: repo.payment_with_allocations(uow, payment_id))
    if row is None:
        raise not_found("payment", payment_id)
    may_read(caller, row["institution_id"], row["distributor_id"])
    return row


@router.get("/institutions/{institution_id}/payments", tags=["payments"], response_model=list[s.PaymentOut])
async def list_payments(institution_id: str, caller: Caller, request: Request) -> list[dict[str, Any]]:
    may_read(caller, institution_id)
    return await query(request.app.state.runtime, lambda uow: repo.payments_of(uow, institution_id))


@router.get("/invoices/{invoice_id}", tags=["payments"], response_model=s.InvoiceOut)
async def get_invoice(invoice_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """An invoice as settlement knows it: amount, what it asks for after 红冲 (``amount_due``), paid, outstanding.

    ``refundable_credit``: paid beyond ``amount_due`` (a credit note or void after payment).
    """
    row = await query(request.app.state.runtime, lambda uow: repo.invoice_with_payments(uow, invoice_id))
    if row is None:
        raise not_found("invoice", invoice_id)
    may_read(caller, row["institution_id"], row["distributor_id"])
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
    may_read(caller, institution_id)
    rows = await query(request.app.state.runtime, lambda uow: repo.overpaid_invoices(uow, institution_id))
    invoices = [_invoice_out(r) for r in rows]
    total = sum((i["refundable_credit"] for i in invoices), ZERO)
    return {"institution_id": institution_id, "refundable_credit": total, "invoices": invoices}
