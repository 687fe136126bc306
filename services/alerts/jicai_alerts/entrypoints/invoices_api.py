"""Invoices over HTTP: an institution's invoices, and one invoice with its payments and decisions.

Every party sees only its own records: an institution its invoices, a distributor the invoices it issued; operators
and the fund see all.
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from jicai_alerts.adapters import queries
from jicai_alerts.adapters import tables as t
from jicai_alerts.adapters.queries import Row
from jicai_alerts.entrypoints import schemas as s
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import Caller, Principal
from jicai_kit.commands import query
from jicai_kit.problems import not_found

router = APIRouter()


def _may_see(caller: Principal, institution_id: str, distributor_id: str | None = None) -> None:
    caller.may_read(what=f"the records of institution {institution_id}", institution_id=institution_id, distributor_id=distributor_id)


def _invoice(row: Row) -> s.InvoiceOut:
    return s.InvoiceOut.model_validate(row)


@router.get("/institutions/{institution_id}/invoices", tags=["invoices"], response_model=list[s.InvoiceOut])
async def institution_invoices(institution_id: str, caller: Caller, request: Request) -> list[s.InvoiceOut]:
    """The institution's invoices: amount, paid, outstanding, deadline (回款期限), status and decision dates."""
    _may_see(caller, institution_id)
    inv = t.invoices
    rows = await query(
        request.app.state.runtime,
        lambda uow: queries.list_rows(uow, inv, inv.c.institution_id == institution_id, order_by=[inv.c.deadline, inv.c.invoice_id]),
    )
    return [_invoice(r) for r in rows]


@router.get("/invoices/{invoice_id}", tags=["invoices"], response_model=s.InvoiceDetail)
async def one_invoice(invoice_id: str, caller: Caller, request: Request) -> s.InvoiceDetail:
    """One invoice with the payments counted against it and the decisions about it."""

    async def read(uow: UnitOfWork) -> tuple[Row | None, list[Row], list[Row]]:
        row = await queries.find(uow, t.invoices, invoice_id)
        pa, d = t.payment_allocations, t.decisions
        payments = await queries.list_rows(uow, pa, pa.c.invoice_id == invoice_id, order_by=[pa.c.paid_on, pa.c.payment_id])
        decisions = await queries.list_rows(uow, d, d.c.invoice_id == invoice_id, order_by=[d.c.effective_on, d.c.decision_id])
        return row, payments, decisions

    row, payments, decisions = await query(request.app.state.runtime, read)
    if row is None:
        raise not_found("invoice", invoice_id)
    _may_see(caller, row["institution_id"], row["distributor_id"])
    return s.InvoiceDetail.model_validate(
        {**row, "payments": payments, "decisions": [d["decision_id"] for d in decisions]}
    )
