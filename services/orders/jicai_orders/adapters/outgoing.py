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


@translate.register
def _(event: e.AcceptanceRecorded) -> IntegrationEvent:
    return ie.DeliveryAccepted(**event.model_dump(exclude={"manufacturer_id"}))


@translate.register
def _(event: e.InvoiceRecorded) -> IntegrationEvent:
    return ie.InvoiceReceived(
        **event.model_dump(exclude={"lines"}),
        lines=tuple(ie.InvoiceLine(**line.model_dump()) for line in event.lines),
    )
