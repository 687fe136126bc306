"""Read models of the orders service, folded from its domain events."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import singledispatch

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from jicai_events.pgcopy import copy_rows
from jicai_events.streams import BulkProjector
from jicai_orders.adapters import tables as t
from jicai_orders.domain import events as e


@singledispatch
async def project(event: object, session: AsyncSession) -> None:
    raise TypeError(f"no projection for {type(event).__name__}")


@project.register
async def _(event: e.ContractRecorded, session: AsyncSession) -> None:
    values = event.model_dump()
    stmt = insert(t.contracts).values(**values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[t.contracts.c.contract_id], set_=values))


@project.register
async def _(event: e.AcceptanceRecorded, session: AsyncSession) -> None:
    await session.execute(insert(t.acceptances).values(**event.model_dump(), invoiced_quantity=0))
    if event.order_id is not None:
        lines = t.order_lines.c
        await session.execute(
            update(t.order_lines)
            .where(lines.order_id == event.order_id, lines.contract_id == event.contract_id)
            .values(
                accepted_quantity=lines.accepted_quantity + event.accepted_quantity,
                rejected_quantity=lines.rejected_quantity + event.rejected_quantity,
            )
        )


@project.register
async def _(event: e.DeliveryReturned, session: AsyncSession) -> None:
    await session.execute(insert(t.returns).values(**event.model_dump()))
    a = t.acceptances.c
    await session.execute(
        update(t.acceptances).where(a.acceptance_id == event.acceptance_id).values(returned_quantity=a.returned_quantity + event.returned_quantity)
    )


@project.register
async def _(event: e.FilingPurchaseRecorded, session: AsyncSession) -> None:
    await session.execute(insert(t.filing_purchases).values(**event.model_dump()))


@project.register
async def _(event: e.OrderPlaced, session: AsyncSession) -> None:
    await session.execute(insert(t.orders).values(**event.model_dump(exclude={"lines"}), stage="placed"))
    await session.execute(
        insert(t.order_lines),
        [{"order_id": event.order_id, "line_no": n, **line.model_dump()} for n, line in enumerate(event.lines, start=1)],
    )


@project.register
async def _(event: e.OrderConfirmed, session: AsyncSession) -> None:
    await session.execute(update(t.orders).where(t.orders.c.order_id == event.order_id).values(stage="confirmed", confirmed_on=event.confirmed_on))


@project.register
async def _(event: e.OrderShipped, session: AsyncSession) -> None:
    await session.execute(update(t.orders).where(t.orders.c.order_id == event.order_id).values(stage="shipped", shipped_on=event.shipped_on))


@project.register
async def _(event: e.OrderCancelled, session: AsyncSession) -> None:
    await session.execute(
        update(t.orders)
        .where(t.orders.c.order_id == event.order_id)
        .values(stage="cancelled", cancelled_on=event.cancelled_on, cancel_reason=event.reason)
    )


@project.register
async def _(event: e.InvoiceRecorded, session: AsyncSession) -> None:
    await session.execute(insert(t.invoices).values(**event.model_dump(exclude={"lines"}), current_amount=event.amount))
    await session.execute(
        insert(t.invoice_lines),
        [{"invoice_id": event.invoice_id, "line_no": n, **line.model_dump()} for n, line in enumerate(event.lines, start=1)],
    )
    for line in event.lines:
        await session.execute(
            update(t.acceptances)
            .where(t.acceptances.c.acceptance_id == line.acceptance_id)
            .values(invoiced_quantity=t.acceptances.c.invoiced_quantity + line.quantity)
        )


@project.register
async def _(event: e.InvoiceCredited, session: AsyncSession) -> None:
    await session.execute(insert(t.credit_notes).values(**event.model_dump(exclude={"institution_id", "pooling_region_code", "distributor_id"})))
    i = t.invoices.c
    await session.execute(
        update(t.invoices)
        .where(i.invoice_id == event.invoice_id)
        .values(credited_amount=i.credited_amount + event.amount, current_amount=event.invoice_amount_after)
    )


@project.register
async def _(event: e.InvoiceVoided, session: AsyncSession) -> None:
    await session.execute(
        update(t.invoices).where(t.invoices.c.invoice_id == event.invoice_id).values(voided_on=event.voided_on, void_reason=event.reason, current_amount=0)
    )
    # A voided invoice bills nothing: its units may be invoiced again (by its replacement).
    lines = (await session.execute(select(t.invoice_lines).where(t.invoice_lines.c.invoice_id == event.invoice_id))).mappings().all()
    for line in lines:
        await session.execute(
            update(t.acceptances)
            .where(t.acceptances.c.acceptance_id == line["acceptance_id"])
            .values(invoiced_quantity=t.acceptances.c.invoiced_quantity - line["quantity"])
        )


@project.register
async def _(event: e.InvoiceReplaced, session: AsyncSession) -> None:
    await session.execute(update(t.invoices).where(t.invoices.c.invoice_id == event.invoice_id).values(replaced_by_invoice_id=event.replaced_by_invoice_id))


@project.register
async def _(event: e.GenericGroupRecorded, session: AsyncSession) -> None:
    values = event.model_dump()
    stmt = insert(t.generic_groups).values(**values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[t.generic_groups.c.group_id], set_=values))


@project.register
async def _(event: e.ProductRecorded, session: AsyncSession) -> None:
    values = event.model_dump()
    stmt = insert(t.products).values(**values)
    await session.execute(stmt.on_conflict_do_update(index_elements=[t.products.c.product_id], set_=values))


@project.register
async def _(event: e.PurchaseRecorded, session: AsyncSession) -> None:
    await session.execute(insert(t.purchases).values(**event.model_dump()))


async def apply(session: AsyncSession, event: e.OrdersEvent) -> None:
    await project(event, session)


async def _acceptances(session: AsyncSession, events: Sequence[e.AcceptanceRecorded]) -> None:
    """Many acceptances at once (a HIS push, a rebuild): the rows of the one-event projection above, one COPY."""
    await copy_rows(session, t.acceptances, [{**event.model_dump(), "invoiced_quantity": 0} for event in events])
    accepted: Counter[tuple[str, str]] = Counter()
    rejected: Counter[tuple[str, str]] = Counter()
    for event in events:
        if event.order_id is not None:
            accepted[event.order_id, event.contract_id] += event.accepted_quantity
            rejected[event.order_id, event.contract_id] += event.rejected_quantity
    if accepted:
        lines = t.order_lines.c
        connection = await session.connection()
        await connection.execute(
            update(t.order_lines)
            .where(lines.order_id == bindparam("o"), lines.contract_id == bindparam("c"))
            .values(accepted_quantity=lines.accepted_quantity + bindparam("a"), rejected_quantity=lines.rejected_quantity + bindparam("r")),
            [{"o": o, "c": c, "a": accepted[o, c], "r": rejected[o, c]} for o, c in sorted(accepted)],
        )


async def _purchases(session: AsyncSession, events: Sequence[e.PurchaseRecorded]) -> None:
    await copy_rows(session, t.purchases, [event.model_dump() for event in events])


BULK: dict[type[e.OrdersEvent], BulkProjector[e.OrdersEvent]] = {
    # Each projector takes the kind it is keyed by, a pairing a dict's value type cannot state.
    e.AcceptanceRecorded: _acceptances,  # type: ignore[dict-item]  # takes only AcceptanceRecorded, its key
    e.PurchaseRecorded: _purchases,  # type: ignore[dict-item]  # takes only PurchaseRecorded, its key
}
"""Set-based projections of the kinds a HIS push records by the thousand."""
