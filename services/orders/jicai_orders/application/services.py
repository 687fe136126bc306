"""Use cases: each loads its streams, asks the domain to decide, records the events.

The caller (an entrypoint) owns the unit of work and so the commit.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from jicai_events.unit_of_work import UnitOfWork
from jicai_orders.adapters import repository as repo
from jicai_orders.domain import acceptance, contract, filing, invoice, order, purchase, red_letter, reference, returns
from jicai_orders.domain.errors import DomainRuleViolated
from jicai_orders.domain.events import (
    AcceptanceRecorded,
    ContractRecorded,
    DeliveryReturned,
    FilingPurchaseRecorded,
    GenericGroupRecorded,
    InvoiceCredited,
    InvoiceEvent,
    InvoiceRecorded,
    InvoiceReplaced,
    InvoiceVoided,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderShipped,
    ProductRecorded,
    PurchaseRecorded,
)
from jicai_policy import PolicyBook


def contract_stream(contract_id: str) -> str:
    return f"contract-{contract_id}"


def acceptance_stream(institution_id: str, external_id: str) -> str:
    return f"acceptance-{institution_id}-{external_id}"


def invoice_stream(invoice_id: str) -> str:
    return f"invoice-{invoice_id}"


async def record_contract(uow: UnitOfWork, told: ContractRecorded) -> bool:
    """Remember a signed contract's terms; False when they were known already."""
    stream_id = contract_stream(told.contract_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = contract.record([e for e in history if isinstance(e, ContractRecorded)], told)
    await repo.streams.append(uow, stream_id, "contract", version, new)
    return bool(new)


def purchase_stream(institution_id: str, external_id: str) -> str:
    return f"purchase-{institution_id}-{external_id}"


async def record_generic_group(uow: UnitOfWork, told: GenericGroupRecorded) -> bool:
    """Remember a generic group; False when it was known already."""
    stream_id = f"generic-group-{told.group_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = reference.record([e for e in history if isinstance(e, GenericGroupRecorded)], told)
    await repo.streams.append(uow, stream_id, "generic_group", version, new)
    return bool(new)


async def record_product(uow: UnitOfWork, told: ProductRecorded) -> bool:
    """Remember a product's group, conversion factor and whether it won; False when known already."""
    stream_id = f"product-{told.product_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = reference.record([e for e in history if isinstance(e, ProductRecorded)], told)
    await repo.streams.append(uow, stream_id, "product", version, new)
    return bool(new)


RegionCheck = Callable[[str | None], None]
"""Refuses (422) a push whose dates the institution's pooling region (None: unknown) cannot decide on, before anything is written."""


async def push_purchases(
    uow: UnitOfWork, institution_id: str, lines: Sequence[purchase.PurchaseLine], check_region: RegionCheck
) -> list[purchase.Decision]:
    """Decide every line of a HIS purchase report and record the accepted ones, all in this unit of work.

    Like ``push_acceptances``: each line its own stream at version 1, all
    appended at once; a concurrent identical report loses the race and its
    retry finds the line recorded (counted once).
    """
    stream_ids = [purchase_stream(institution_id, line.external_id) for line in lines]
    histories = await repo.load_streams(uow, stream_ids)
    products = await repo.product_views(uow, (line.product_id for line in lines))
    region = await repo.pooling_region_of(uow, institution_id)
    check_region(region)
    decisions = [
        purchase.record(
            [e for e in histories.get(stream_id, []) if isinstance(e, PurchaseRecorded)],
            institution_id,
            line,
            products.get(line.product_id),
            region,
        )
        for stream_id, line in zip(stream_ids, lines, strict=True)
    ]
    recorded = [(stream_id, 0, [d.event]) for stream_id, d in zip(stream_ids, decisions, strict=True) if isinstance(d, purchase.Recorded)]
    await repo.streams.append_many(uow, "purchase", recorded)
    return decisions


async def push_acceptances(
    uow: UnitOfWork, institution_id: str, lines: Sequence[acceptance.AcceptanceLine], check_region: RegionCheck
) -> list[acceptance.Decision]:
    """Decide every line of a HIS push and record the accepted ones, all in this unit of work.

    Returns one decision per line, in the order of ``lines``. Streams are
    loaded in one query, decided in memory and the accepted lines appended
    set-based (one COPY per table, no savepoint per line). Each accepted line
    starts its own stream at version 1; a concurrent push of the same line
    loses the (stream, version) race with ConcurrencyConflict, and its retry
    (``jicai_kit.commands.execute``) finds the line recorded.
    """
    stream_ids = [acceptance_stream(institution_id, line.external_id) for line in lines]
    histories = await repo.load_streams(uow, stream_ids)
    contracts, region = await repo.contracts_and_region(uow, (line.contract_id for line in lines), institution_id)
    check_region(region)
    orders = await repo.order_views(uow, (line.order_id for line in lines if line.order_id is not None))
    decisions = [
        acceptance.accept(
            [e for e in histories.get(stream_id, []) if isinstance(e, AcceptanceRecorded)],
            institution_id,
            line,
            contracts.get(line.contract_id),
            orders.get(line.order_id) if line.order_id is not None else None,
        )
        for stream_id, line in zip(stream_ids, lines, strict=True)
    ]
    # One COPY per table, rows in stream order: two overlapping pushes wait on each other instead of deadlocking.
    accepted = [(stream_id, 0, [d.event]) for stream_id, d in zip(stream_ids, decisions, strict=True) if isinstance(d, acceptance.Accepted)]
    await repo.streams.append_many(uow, "acceptance", accepted)
    return decisions


async def receive_invoice(uow: UnitOfWork, cmd: invoice.ReceiveInvoice) -> bool:
    """Record a distributor's invoice; False when it repeated an identical earlier one."""
    # Lock the billed acceptances first, then read the invoice stream: a
    # request that waited here for an identical one sees it as recorded.
    acceptances = await repo.acceptance_views_for_update(uow, (line.acceptance_id for line in cmd.lines))
    stream_id = invoice_stream(cmd.invoice_id)
    history, version = await repo.streams.load(uow, stream_id)
    if not history and cmd.replaces_invoice_id is not None:
        # Claim the voided invoice on its own stream (checked first: the clearer reason): two replacements racing collide on its version.
        old_id = invoice_stream(cmd.replaces_invoice_id)
        old_history, old_version = await repo.streams.load(uow, old_id)
        claim = red_letter.replace_with(_invoice_events(old_history), cmd)
        await repo.streams.append(uow, old_id, "invoice", old_version, claim)
    new = invoice.receive([e for e in history if isinstance(e, InvoiceRecorded)], cmd, acceptances)
    await repo.streams.append(uow, stream_id, "invoice", version, new)
    return bool(new)


def _invoice_events(history: Sequence[object]) -> list[InvoiceEvent]:
    return [e for e in history if isinstance(e, (InvoiceRecorded, InvoiceCredited, InvoiceVoided, InvoiceReplaced))]


async def change_invoice(uow: UnitOfWork, invoice_id: str, step: Callable[[Sequence[InvoiceEvent]], list[InvoiceEvent]]) -> bool:
    """Credit or void an invoice (``step`` decides from its history); False when it repeated an identical earlier request."""
    stream_id = invoice_stream(invoice_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = step(_invoice_events(history))
    await repo.streams.append(uow, stream_id, "invoice", version, new)
    return bool(new)


def order_stream(order_id: str) -> str:
    return f"order-{order_id}"


_ORDER_EVENTS = (OrderPlaced, OrderConfirmed, OrderShipped, OrderCancelled)


async def place_order(uow: UnitOfWork, cmd: order.PlaceOrder) -> bool:
    """Place an order against the institution's contracts; False when it repeated an identical earlier one."""
    stream_id = order_stream(cmd.order_id)
    history, version = await repo.streams.load(uow, stream_id)
    contracts = await repo.contract_views(uow, (line.contract_id for line in cmd.lines))
    new = order.place([e for e in history if isinstance(e, _ORDER_EVENTS)], cmd, contracts)
    await repo.streams.append(uow, stream_id, "order", version, new)
    return bool(new)


async def advance_order(uow: UnitOfWork, order_id: str, step: order.Step) -> bool:
    """Confirm, ship or cancel an order (``step`` decides from its history); False when nothing changed."""
    stream_id = order_stream(order_id)
    history, version = await repo.streams.load(uow, stream_id)
    new = step([e for e in history if isinstance(e, _ORDER_EVENTS)])
    await repo.streams.append(uow, stream_id, "order", version, new)
    return bool(new)


async def return_delivery(uow: UnitOfWork, cmd: returns.ReturnDelivery) -> bool:
    """Record a return (退货) of accepted units; False when it repeated an identical earlier one."""
    # Lock the acceptance first (as invoices do), so concurrent returns cannot together exceed what was accepted.
    accepted = (await repo.acceptance_views_for_update(uow, [cmd.acceptance_id])).get(cmd.acceptance_id)
    if accepted is None:
        raise DomainRuleViolated("acceptance_id", f"no acceptance {cmd.acceptance_id} is recorded")
    stream_id = f"return-{cmd.return_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = returns.give_back([e for e in history if isinstance(e, DeliveryReturned)], cmd, accepted)
    await repo.streams.append(uow, stream_id, "return", version, new)
    return bool(new)


async def record_filing_purchase(uow: UnitOfWork, cmd: filing.RecordFiling) -> bool:
    """Record a filing purchase (备案采购); False when it repeated an identical earlier one."""
    stream_id = f"filing-{cmd.filing_id}"
    history, version = await repo.streams.load(uow, stream_id)
    region = await repo.pooling_region_of(uow, cmd.institution_id)
    new = filing.record([e for e in history if isinstance(e, FilingPurchaseRecorded)], cmd, region)
    await repo.streams.append(uow, stream_id, "filing_purchase", version, new)
    return bool(new)


async def filing_standing(uow: UnitOfWork, institution_id: str, year: int, book: PolicyBook) -> tuple[filing.Standing, list[dict[str, Any]]] | None:
    """The institution's filing purchases in ``year`` and their total against the profile in force at the year's end; None when its region is unknown."""
    region = await repo.pooling_region_of(uow, institution_id)
    if region is None:
        return None
    rows = await repo.filing_purchases_in(uow, institution_id, year)
    amount = sum((row["amount"] for row in rows), Decimal("0.00"))
    return filing.standing(year, amount, book.profile_for(region, on=date(year, 12, 31))), rows
