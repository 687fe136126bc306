"""HTTP API of the orders service.

Hospitals' HIS push acceptances (验收) for their own institution; distributors
record their own invoices (收到发票); operators may do both. Each party reads
only its own records; operators and the fund read all.
"""
from __future__ import annotations

from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from jicai_events.catalog.orders import Channel
from jicai_events.types import Identifier
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit.auth import SEES_ALL, Caller, Principal, Role
from jicai_kit.commands import Recorded, execute, query, record
from jicai_kit.problems import Problem, forbidden, invalid, invalid_fields, not_found
from jicai_kit.validity import check_dates
from jicai_orders.adapters import repository as repo
from jicai_orders.adapters import tables as t
from jicai_orders.adapters.policy import policy_book
from jicai_orders.application import services
from jicai_orders.domain import filing, order, purchase, red_letter, returns
from jicai_orders.domain.acceptance import MAX_ID_LENGTH, AcceptanceLine, Accepted, Decision, Duplicate, acceptance_id
from jicai_orders.domain.invoice import AmountMismatch, InvoiceLine, ReceiveInvoice
from jicai_orders.entrypoints import schemas as s
from jicai_policy import PolicyError

router = APIRouter()

InstitutionId = Annotated[Identifier, Path(description="the institution (医疗机构) id")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=2**63 - 1)]


async def _decidable(request: Request, facts: dict[str, date | None], *, institution_id: str | None = None, region: str | None = None) -> None:
    """422 naming every business date no consumer could decide on (before the region's profiles, or in the future)."""
    field = None
    if region is None and institution_id is not None:
        region, field = await query(request.app.state.runtime, lambda uow: repo.pooling_region_of(uow, institution_id)), "institution_id"
    check_dates(request.app.state.settings, policy_book(), region, facts, region_field=field)


async def _decidable_in(uow: UnitOfWork, request: Request, institution_id: str, facts: dict[str, date | None]) -> None:
    """``_decidable`` inside the command's own unit of work: a HIS push reads the region without a transaction of its own."""
    check_dates(request.app.state.settings, policy_book(), await repo.pooling_region_of(uow, institution_id), facts)


async def _pushing_for(institution_id: InstitutionId, caller: Caller) -> str:
    """Only the institution itself (its HIS) or an operator may push its acceptances."""
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    caller.require_party(institution_id, f"the acceptances of institution {institution_id}")
    return institution_id


@router.post(
    "/institutions/{institution_id}/acceptances:batch",
    tags=["acceptances"],
    response_model=s.BatchResult,
    response_model_exclude_none=True,
)
async def push_acceptances(
    institution_id: Annotated[str, Depends(_pushing_for)], body: s.AcceptanceBatchIn, request: Request
) -> s.BatchResult:
    """Record a HIS push of receipt checks (验收), 1..1000 lines, in one transaction.

    Each line is decided on its own: ``accepted`` (recorded now), ``duplicate``
    (recorded by an earlier push with the same content: a retry counts once) or
    ``rejected`` with the reason (nothing recorded for that line). Input the
    schema refuses rejects the whole push with 422 and records nothing.
    """
    lines = _lines(institution_id, body)
    facts: dict[str, date | None] = {f"lines[{i}].accepted_on": line.accepted_on for i, line in enumerate(lines)}

    async def push(uow: UnitOfWork) -> list[Decision]:
        await _decidable_in(uow, request, institution_id, facts)
        return await services.push_acceptances(uow, institution_id, lines)

    decisions = await execute(request.app.state.runtime, push)
    results = [_result(line, decision) for line, decision in zip(lines, decisions, strict=True)]
    return s.BatchResult(
        results=results,
        accepted=sum(r.status == "accepted" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
    )


def _check_external_ids(institution_id: str, external_ids: list[str]) -> None:
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


def _lines(institution_id: str, body: s.AcceptanceBatchIn) -> list[AcceptanceLine]:
    _check_external_ids(institution_id, [line.external_id for line in body.lines])
    return [
        AcceptanceLine(
            external_id=line.external_id,
            contract_id=line.contract_id,
            accepted_quantity=line.accepted_quantity,
            rejected_quantity=line.rejected_quantity,
            rejection_reason=line.rejection_reason,
            accepted_on=line.accepted_on,
            lot_number=line.lot_number,
            channel=line.channel,
            order_id=line.order_id,
            product_id=line.product_id,
            unit_price=line.unit_price,
        )
        for line in body.lines
    ]


def _result(line: AcceptanceLine, decision: Decision) -> s.LineResult:
    if isinstance(decision, Accepted):
        return s.LineResult(external_id=line.external_id, status="accepted", acceptance_id=decision.event.acceptance_id)
    if isinstance(decision, Duplicate):
        return s.LineResult(external_id=line.external_id, status="duplicate", acceptance_id=decision.acceptance_id)
    return s.LineResult(external_id=line.external_id, status="rejected", reason=decision.reason)


async def _reporting_for(institution_id: InstitutionId, caller: Caller) -> str:
    """Only the institution itself (its HIS) or an operator may report its purchases."""
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    caller.require_party(institution_id, f"the purchases of institution {institution_id}")
    return institution_id


@router.post(
    "/institutions/{institution_id}/purchases:batch",
    tags=["purchases"],
    response_model=s.PurchaseBatchResult,
    response_model_exclude_none=True,
)
async def push_purchases(
    institution_id: Annotated[str, Depends(_reporting_for)], body: s.PurchaseBatchIn, request: Request
) -> s.PurchaseBatchResult:
    """Record a HIS report of purchases that are not acceptances against a VBP contract, 1..1000 lines.

    Non-winning products (非中选) of a generic group, bought on the platform or
    offline, and winning products bought offline (线下采购). Each line is
    converted to its group's base unit and decided on its own: ``accepted``,
    ``duplicate`` (a retry counts once) or ``rejected`` with the reason.
    Input the schema refuses rejects the whole report with 422 and records nothing.
    """
    _check_external_ids(institution_id, [line.external_id for line in body.lines])
    facts: dict[str, date | None] = {f"lines[{i}].purchased_on": line.purchased_on for i, line in enumerate(body.lines)}
    lines = [
        purchase.PurchaseLine(
            external_id=line.external_id, product_id=line.product_id, quantity=line.quantity,
            unit_price=line.unit_price, purchased_on=line.purchased_on, channel=line.channel,
        )
        for line in body.lines
    ]

    async def report(uow: UnitOfWork) -> list[purchase.Decision]:
        await _decidable_in(uow, request, institution_id, facts)
        return await services.push_purchases(uow, institution_id, lines)

    decisions = await execute(request.app.state.runtime, report)
    results = [_purchase_result(line, decision) for line, decision in zip(lines, decisions, strict=True)]
    return s.PurchaseBatchResult(
        results=results,
        accepted=sum(r.status == "accepted" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
    )


def _purchase_result(line: purchase.PurchaseLine, decision: purchase.Decision) -> s.PurchaseLineResult:
    if isinstance(decision, purchase.Recorded):
        return s.PurchaseLineResult(external_id=line.external_id, status="accepted", purchase_id=decision.event.purchase_id)
    if isinstance(decision, purchase.Duplicate):
        return s.PurchaseLineResult(external_id=line.external_id, status="duplicate", purchase_id=decision.purchase_id)
    return s.PurchaseLineResult(external_id=line.external_id, status="rejected", reason=decision.reason)


@router.post("/invoices", tags=["invoices"], status_code=201, response_model=Recorded)
async def receive_invoice(body: s.InvoiceIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Record a distributor's invoice (发票) as received by the institution, matched to its acceptances.

    201 when recorded, 200 when it repeats the identical invoice, 409 when the
    invoice id is recorded with different content. 422 names the field at
    fault; an amount that is not Σ quantity × unit_price says by how much.
    """
    caller.require(Role.DISTRIBUTOR, Role.OPERATOR)
    caller.require_party(body.distributor_id, f"an invoice of distributor {body.distributor_id}")
    await _decidable(request, {"issued_on": body.issued_on, "received_on": body.received_on}, institution_id=body.institution_id)
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
    row = await query(request.app.state.runtime, lambda uow: repo.find(uow, t.invoices, invoice_id))
    if row is None:
        raise not_found("invoice", invoice_id)
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
    await _decidable(request, {"received_on": body.received_on}, region=row["pooling_region_code"])
    cmd = red_letter.CreditInvoice(invoice_id, body.credit_note_id, body.credit_note_number, body.amount, body.received_on, body.reason)
    credit = partial(red_letter.credit, cmd=cmd)
    return await record(request.app.state.runtime, response, body.credit_note_id, lambda uow: services.change_invoice(uow, invoice_id, credit))


@router.post("/invoices/{invoice_id}/void", tags=["invoices"], response_model=Recorded)
async def void_invoice(invoice_id: str, body: s.VoidIn, caller: Caller, request: Request) -> Recorded:
    """Void the whole invoice (全额红冲 / 作废): it asks for nothing, and its units may be billed by a replacement invoice.

    ``created`` is false when it was voided already with the same date and reason; 409 with another.
    """
    row = await _invoice_of(request, caller, invoice_id)
    await _decidable(request, {"voided_on": body.voided_on}, region=row["pooling_region_code"])
    cmd = red_letter.VoidInvoice(invoice_id, body.voided_on, body.reason)
    created = await execute(request.app.state.runtime, lambda uow: services.change_invoice(uow, invoice_id, partial(red_letter.void, cmd=cmd)))
    return Recorded(id=invoice_id, created=created)


def _may_see(caller: Principal, row: dict[str, Any], what: str) -> None:
    caller.may_read(
        what=f"this {what}'s details", institution_id=row.get("institution_id"),
        distributor_id=row.get("distributor_id"), manufacturer_id=row.get("manufacturer_id"),
    )


def _visible_to(caller: Principal, institution_id: str, *, owners: tuple[Role, ...]) -> dict[str, str]:
    """Filters that keep a listing to the caller's own records."""
    if caller.role in SEES_ALL:
        return {}
    if caller.role is Role.INSTITUTION:
        caller.require_party(institution_id, f"the records of institution {institution_id}")
        return {}
    if caller.role in owners:
        return {f"{caller.role.value}_id": caller.party_id}
    raise forbidden(f"role {caller.role.value} may not list these records")


@router.get("/acceptances/{acceptance_id}", tags=["acceptances"], response_model=s.Acceptance)
async def get_acceptance(acceptance_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """One acceptance, with the quantity invoiced so far."""
    row = await query(request.app.state.runtime, lambda uow: repo.find(uow, t.acceptances, acceptance_id))
    if row is None:
        raise not_found("acceptance", acceptance_id)
    _may_see(caller, row, "acceptance")
    return row


@router.post("/acceptances/{acceptance_id}/returns", tags=["acceptances"], status_code=201, response_model=Recorded)
async def return_delivery(acceptance_id: str, body: s.ReturnIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """The institution returns (退货) part of an accepted delivery; the returned units can no longer be invoiced.

    201 when recorded, 200 when it repeats the identical return, 409 when the
    return id is taken with different content; 422 when it exceeds accepted − already returned.
    """
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    row = await query(request.app.state.runtime, lambda uow: repo.find(uow, t.acceptances, acceptance_id))
    if row is None:
        raise not_found("acceptance", acceptance_id)
    caller.require_party(row["institution_id"], f"the acceptances of institution {row['institution_id']}")
    await _decidable(request, {"returned_on": body.returned_on}, region=row["pooling_region_code"])
    cmd = returns.ReturnDelivery(body.return_id, acceptance_id, body.returned_quantity, body.returned_on, body.reason)
    return await record(request.app.state.runtime, response, body.return_id, lambda uow: services.return_delivery(uow, cmd))


@router.get("/institutions/{institution_id}/acceptances", tags=["acceptances"], response_model=list[s.Acceptance])
async def list_acceptances(
    institution_id: InstitutionId, caller: Caller, request: Request, contract_id: str | None = None,
    limit: Limit = 500, offset: Offset = 0,
) -> list[dict[str, Any]]:
    """An institution's acceptances by acceptance date (a distributor or manufacturer sees only its own)."""
    filters = _visible_to(caller, institution_id, owners=(Role.DISTRIBUTOR, Role.MANUFACTURER))
    if contract_id:
        filters["contract_id"] = contract_id
    return await query(
        request.app.state.runtime,
        lambda uow: repo.list_rows(
            uow, t.acceptances, order_by=("accepted_on", "acceptance_id"), limit=limit, offset=offset,
            institution_id=institution_id, **filters,
        ),
    )


@router.get("/institutions/{institution_id}/purchases", tags=["purchases"], response_model=list[s.Purchase])
async def list_purchases(
    institution_id: InstitutionId, caller: Caller, request: Request, channel: Channel | None = None,
    generic_group_id: str | None = None, limit: Limit = 500, offset: Offset = 0,
) -> list[dict[str, Any]]:
    """An institution's non-contract purchases (non-winning, offline) by purchase date; the institution itself, operators and the fund."""
    filters = _visible_to(caller, institution_id, owners=())
    if channel:
        filters["channel"] = channel
    if generic_group_id:
        filters["generic_group_id"] = generic_group_id
    return await query(
        request.app.state.runtime,
        lambda uow: repo.list_rows(
            uow, t.purchases, order_by=("purchased_on", "purchase_id"), limit=limit, offset=offset,
            institution_id=institution_id, **filters,
        ),
    )


@router.get("/invoices/{invoice_id}", tags=["invoices"], response_model=s.Invoice)
async def get_invoice(invoice_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """One invoice with its lines."""
    row = await query(request.app.state.runtime, lambda uow: repo.invoice_with_lines(uow, invoice_id))
    if row is None:
        raise not_found("invoice", invoice_id)
    _may_see(caller, row, "invoice")
    return row


@router.get("/institutions/{institution_id}/invoices", tags=["invoices"], response_model=list[s.InvoiceSummary])
async def list_invoices(
    institution_id: InstitutionId, caller: Caller, request: Request, limit: Limit = 500, offset: Offset = 0
) -> list[dict[str, Any]]:
    """An institution's invoices by receipt date (a distributor sees only its own)."""
    filters = _visible_to(caller, institution_id, owners=(Role.DISTRIBUTOR,))
    return await query(
        request.app.state.runtime,
        lambda uow: repo.list_rows(
            uow, t.invoices, order_by=("received_on", "invoice_id"), limit=limit, offset=offset,
            institution_id=institution_id, **filters,
        ),
    )


# --- orders (订单) ----------------------------------------------------------------------------------------------------


@router.post("/orders", tags=["orders"], status_code=201, response_model=Recorded)
async def place_order(body: s.OrderIn, caller: Caller, request: Request, response: Response) -> Recorded:
    """Place an order (订单) against the institution's contracts, priced at their winning prices.

    201 when placed, 200 when it repeats the identical order, 409 when the
    order id is taken with different content. 422 names the line and field at
    fault, e.g. a stated product or price that is not the contract's.
    """
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    caller.require_party(body.institution_id, f"an order of institution {body.institution_id}")
    await _decidable(request, {"placed_on": body.placed_on}, institution_id=body.institution_id)
    cmd = order.PlaceOrder(
        order_id=body.order_id, institution_id=body.institution_id, placed_on=body.placed_on,
        lines=tuple(order.OrderLine(line.contract_id, line.quantity, line.product_id, line.unit_price) for line in body.lines),
    )
    return await record(request.app.state.runtime, response, body.order_id, lambda uow: services.place_order(uow, cmd))


async def _advance(request: Request, caller: Caller, order_id: str, party: str, step: order.Step, facts: dict[str, date | None]) -> Recorded:
    """Run one lifecycle step for the order's own ``party`` (its distributor or institution) or an operator."""
    row = await query(request.app.state.runtime, lambda uow: repo.find(uow, t.orders, order_id))
    if row is None:
        raise not_found("order", order_id)
    caller.require_party(row[f"{party}_id"], f"order {order_id}")
    await _decidable(request, facts, region=row["pooling_region_code"])
    changed = await execute(request.app.state.runtime, lambda uow: services.advance_order(uow, order_id, step))
    return Recorded(id=order_id, created=changed)


@router.post("/orders/{order_id}/confirm", tags=["orders"], response_model=Recorded)
async def confirm_order(order_id: str, body: s.OrderConfirmIn, caller: Caller, request: Request) -> Recorded:
    """The order's distributor confirms it (确认). ``created`` is false when it was confirmed already on that date."""
    caller.require(Role.DISTRIBUTOR, Role.OPERATOR)
    return await _advance(request, caller, order_id, "distributor", partial(order.confirm, order_id=order_id, confirmed_on=body.confirmed_on),
                          {"confirmed_on": body.confirmed_on})


@router.post("/orders/{order_id}/ship", tags=["orders"], response_model=Recorded)
async def ship_order(order_id: str, body: s.OrderShipIn, caller: Caller, request: Request) -> Recorded:
    """The order's distributor ships it (配送); only a confirmed order ships."""
    caller.require(Role.DISTRIBUTOR, Role.OPERATOR)
    return await _advance(request, caller, order_id, "distributor", partial(order.ship, order_id=order_id, shipped_on=body.shipped_on),
                          {"shipped_on": body.shipped_on})


@router.post("/orders/{order_id}/cancel", tags=["orders"], response_model=Recorded)
async def cancel_order(order_id: str, body: s.OrderCancelIn, caller: Caller, request: Request) -> Recorded:
    """The institution cancels its order before it is shipped (409 once shipped)."""
    caller.require(Role.INSTITUTION, Role.OPERATOR)
    step = partial(order.cancel, order_id=order_id, cancelled_on=body.cancelled_on, reason=body.reason)
    return await _advance(request, caller, order_id, "institution", step, {"cancelled_on": body.cancelled_on})


def _order_out(row: dict[str, Any]) -> dict[str, Any]:
    delivered = [order.Delivered(line["quantity"], line["accepted_quantity"], line["rejected_quantity"]) for line in row["lines"]]
    return {**row, "status": order.status(order.Status(row["stage"]), delivered).value}


@router.get("/orders/{order_id}", tags=["orders"], response_model=s.Order)
async def get_order(order_id: str, caller: Caller, request: Request) -> dict[str, Any]:
    """One order with its lines, the quantities delivered against them and its status."""
    row = await query(request.app.state.runtime, lambda uow: repo.order_with_lines(uow, order_id))
    if row is None:
        raise not_found("order", order_id)
    _may_see(caller, row, "order")
    return _order_out(row)


@router.get("/institutions/{institution_id}/orders", tags=["orders"], response_model=list[s.Order])
async def list_orders(
    institution_id: InstitutionId, caller: Caller, request: Request, limit: Limit = 500, offset: Offset = 0
) -> list[dict[str, Any]]:
    """An institution's orders by placing date (a distributor sees only its own)."""
    filters = _visible_to(caller, institution_id, owners=(Role.DISTRIBUTOR,))

    async def read(uow: UnitOfWork) -> list[dict[str, Any]]:
        rows = await repo.list_rows(
            uow, t.orders, order_by=("placed_on", "order_id"), limit=limit, offset=offset, institution_id=institution_id, **filters
        )
        return [_order_out(full) for r in rows if (full := await repo.order_with_lines(uow, r["order_id"])) is not None]

    return await query(request.app.state.runtime, read)


# --- filing purchases (备案采购) -------------------------------------------------------------------------------------


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
    await _decidable(request, {"purchased_on": body.purchased_on, "filed_on": body.filed_on}, institution_id=body.institution_id)
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
    _visible_to(caller, institution_id, owners=())
    standing, rows = await _standing(request, institution_id, year)
    return s.FilingYear(**vars(standing), institution_id=institution_id, filings=[s.FilingPurchase(**row) for row in rows])
