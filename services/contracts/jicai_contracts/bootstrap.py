"""Wires the contracts service: settings → runtime with its orders consumer (acceptances and returns count toward agreements)."""
from __future__ import annotations

from jicai_contracts.adapters.policy import FOLDED
from jicai_contracts.adapters.tables import event_tables
from jicai_contracts.entrypoints.handlers import on_delivery_accepted, on_delivery_returned
from jicai_contracts.settings import Settings
from jicai_events.catalog import DeliveryAccepted, DeliveryReturned
from jicai_events.subscriptions import Subscription
from jicai_events.topics import ORDERS
from jicai_kit.runtime import ConsumerSpec, ServiceRuntime
from jicai_kit.settings import ServiceSettings

ORDERS_CONSUMER = ConsumerSpec(
    name="contracts.orders",
    topics=(ORDERS,),
    subscriptions=(
        Subscription(DeliveryAccepted, on_delivery_accepted),
        Subscription(DeliveryReturned, on_delivery_returned),
    ),
)


def make_runtime(settings: ServiceSettings) -> ServiceRuntime:
    FOLDED.reset()
    FOLDED.base()  # load and validate the profiles and the calendar once, before serving
    return ServiceRuntime(settings=settings, tables=event_tables, consumers=(ORDERS_CONSUMER,), policy=FOLDED, also_marks=("policy",))


def load_settings() -> Settings:
    return Settings()
