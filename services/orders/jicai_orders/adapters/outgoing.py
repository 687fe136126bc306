"""Translation of orders domain events into integration events (the edge)."""
from __future__ import annotations

from functools import singledispatch

import jicai_events.catalog as ie
from jicai_events.base import IntegrationEvent
from jicai_orders.domain import events as e


@singledispatch
def translate(event: object) -> IntegrationEvent | None:
    raise TypeError(f"no translation for {type(event).__name__}")


@translate.register
def _(event: e.ContractRecorded) -> IntegrationEvent | None:
    return None  # the contracts service owns this fact and has published it already


@translate.register
def _(event: e.GenericGroupRecorded) -> IntegrationEvent | None:
    return None  # the contracts service owns this fact


@translate.register
def _(event: e.ProductRecorded) -> IntegrationEvent | None:
    return None  # the contracts service owns this fact


@translate.register
def _(event: e.PurchaseRecorded) -> IntegrationEvent:
    return ie.PurchaseRecorded(**event.model_dump())


KEPT_FROM_DELIVERY_ACCEPTED = frozenset({"manufacturer_id", "order_id"})
"""The agreed DeliveryAccepted carries no order id (the link stays in orders' read model) and no manufacturer."""
if set(e.AcceptanceRecorded.model_fields) - set(ie.DeliveryAccepted.model_fields) != KEPT_FROM_DELIVERY_ACCEPTED:
    raise TypeError("AcceptanceRecorded gained a field: decide whether DeliveryAccepted carries it")


@translate.register
def _(event: e.AcceptanceRecorded) -> IntegrationEvent:
    # Validated from the event's attributes (the fields DeliveryAccepted declares): no dict in between, a third of
    # the cost for the thousand lines of a HIS push.
    return ie.DeliveryAccepted.model_validate(event, from_attributes=True)


@translate.register
def _(event: e.InvoiceRecorded) -> IntegrationEvent:
    return ie.InvoiceReceived(
        **event.model_dump(exclude={"lines"}),
        lines=tuple(ie.InvoiceLine(**line.model_dump()) for line in event.lines),
    )


@translate.register
def _(event: e.InvoiceCredited) -> IntegrationEvent:
    return ie.InvoiceCredited(**event.model_dump())


@translate.register
def _(event: e.InvoiceVoided) -> IntegrationEvent:
    return ie.InvoiceVoided(**event.model_dump())


@translate.register
def _(event: e.InvoiceReplaced) -> IntegrationEvent | None:
    return None  # the replacement's InvoiceReceived names the voided invoice (replaces_invoice_id)


@translate.register
def _(event: e.FilingPurchaseRecorded) -> IntegrationEvent:
    return ie.FilingPurchaseRecorded(**event.model_dump())


@translate.register
def _(event: e.DeliveryReturned) -> IntegrationEvent:
    return ie.DeliveryReturned(**event.model_dump())


@translate.register
def _(event: e.OrderPlaced) -> IntegrationEvent:
    return ie.OrderPlaced(**event.model_dump(exclude={"lines"}), lines=tuple(ie.OrderLine(**line.model_dump()) for line in event.lines))


@translate.register
def _(event: e.OrderConfirmed) -> IntegrationEvent:
    return ie.OrderConfirmed(**event.model_dump())


@translate.register
def _(event: e.OrderShipped) -> IntegrationEvent:
    return ie.OrderShipped(**event.model_dump())


@translate.register
def _(event: e.OrderCancelled) -> IntegrationEvent:
    return ie.OrderCancelled(**event.model_dump())
