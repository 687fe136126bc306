"""Distributors' invoices (发票) as institutions receive them, their credit notes (红字发票) and voiding (红冲), and reads."""
from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response

from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Principal, Role
from jicai_kit.commands import Recorded, execute, query, record
from jicai_kit.problems import Problem
from jicai_orders.adapters import repository as repo
from jicai_orders.adapters import tables as t
from jicai_orders.application import services
from jicai_orders.domain import red_letter
from jicai_orders.domain.invoice import AmountMismatch, InvoiceLine, ReceiveInvoice
from jicai_orders.entrypoints import schemas as s
from jicai_orders.entrypoints.common import InstitutionId, Limit, Offset, decidable, found, may_see, visible_to

router = APIRouter()


@router.post("/invoices", tags=["invoices"], status_code=201, response_model=Recorded)
async def receive_invoice(body: s.InvoiceIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Record a distributor's invoice (发票) as received by the institution, matched to its acceptances.

    201 when recorded, 200 when it repeats the identical invoice, 409 when the
    invoice id is recorded with different content. 422 names the field at
    fault; an amount that is not Σ quantity × unit_price says by how much.
    """
    caller.require(Role.DISTRIBUTOR, Role.OPERATOR)
    caller.require_party(body.distributor_id, f"an invoice of distributor {body.distributor_id}")
    await decidable(request, {"issued_on": body.issued_on, "received_on": body.received_on}, institution_id=body.institution_id)
    cmd = ReceiveInvoice(
        invoice_id=body.invoice_id,
        invoice_number=body.invoice_number,
        distributor_id=body.distributor_id,
        institution_id=body.institution_id,
        issued_on=body.issued_on,
        received_on=body.received_on,
        amount=body.amount,
        lines=tuple(InvoiceLine(line.acceptance_id, line.quantity) for line in body.lines),
        replaces_invoice_id=body.replaces_invoice_id,
    )

    async def command(uow: UnitOfWork) -> bool:
        try:
            return await services.receive_invoice(uow, cmd)
        except AmountMismatch as exc:
            raise Problem(
                422, "invoice-amount-mismatch", "Invoice amount does not match its lines", f"{exc.field}: {exc.reason}",
                errors=[{"field": exc.field, "reason": exc.reason}],
                expected_amount=str(exc.expected_amount), difference=str(exc.difference),
            ) from exc

    return await record(request.app.state.runtime, response, body.invoice_id, command)


async def _invoice_of(request: Request, caller: Principal, invoice_id: str) -> dict[str, Any]:
    """The invoice, once the caller is its distributor or an operator (404 / 403 otherwise)."""
    caller.require(Role.DISTRIBUTOR, Role.OPERATOR)
    row = found(await query(request.app.state.runtime, lambda uow: repo.find(uow, t.invoices, invoice_id)), "invoice", invoice_id)
    caller.require_party(row["distributor_id"], f"invoice {invoice_id}")
    return row


@router.post("/invoices/{invoice_id}/credit-notes", tags=["invoices"], status_code=201, response_model=Recorded)
async def credit_invoice(invoice_id: str, body: s.CreditNoteIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Record the distributor's credit note (红字发票, partial 红冲) reducing what the invoice asks for.

    201 when recorded, 200 when it repeats the identical credit note, 409 when the
    credit note id is taken with other content or the invoice is voided; 422
    when the amount is not > 0 and ≤ what the invoice still asks for.
    """
    row = await _invoice_of(request, caller, invoice_id)
    await decidable(request, {"received_on": body.received_on}, region=row["pooling_region_code"])
    cmd = red_letter.CreditInvoice(invoice_id, body.credit_note_id, body.credit_note_number, body.amount, body.received_on, body.reason)
    credit = partial(red_letter.credit, cmd=cmd)
    return await record(request.app.state.runtime, response, body.credit_note_id, lambda uow: services.change_invoice(uow, invoice_id, credit))


@router.post("/invoices/{invoice_id}/void", tags=["invoices"], response_model=Recorded)
async def void_invoice(invoice_id: str, body: s.VoidIn, caller: Caller, request: Request) -> Recorded:
    """Void the whole invoice (全额红冲 / 作废): it asks for nothing, and its units may be billed by a replacement invoice.

    ``created`` is false when it was voided already with the same date and reason; 409 with another.
    """
    row = await _invoice_of(request, caller, invoice_id)
    await decidable(request, {"voided_on": body.voided_on}, region=row["pooling_region_code"])
    cmd = red_letter.VoidInvoice(invoice_id, body.voided_on, body.reason)
    created = await execute(request.app.state.runtime, lambda uow: services.change_invoice(uow, invoice_id, partial(red_letter.void, cmd=cmd)))
    return Recorded(id=invoice_id, created=created)


@router.get("/invoices/{invoice_id}", tags=["invoices"], response_model=s.Invoice)
async def get_invoice(invoice_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """One invoice with its lines."""
    row = found(await query(request.app.state.runtime, lambda uow: repo.invoice_with_lines(uow, invoice_id)), "invoice", invoice_id)
    may_see(caller, row, "invoice")
    return row


@router.get("/institutions/{institution_id}/invoices", tags=["invoices"], response_model=list[s.InvoiceSummary])
async def list_invoices(
    institution_id: InstitutionId, caller: Caller, request: Request, limit: Limit = 500, offset: Offset = 0
) -> list[dict[str, Any]]:
    """An institution's invoices by receipt date (a distributor sees only its own)."""
    filters = visible_to(caller, institution_id, owners=(Role.DISTRIBUTOR,))
    return await query(
        request.app.state.runtime,
        lambda uow: repo.list_rows(
            uow, t.invoices, order_by=("received_on", "invoice_id"), limit=limit, offset=offset,
            institution_id=institution_id, **filters,
        ),
    )
