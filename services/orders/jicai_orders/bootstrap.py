"""Wires the orders service: settings → runtime with its contracts consumer."""
from __future__ import annotations

from jicai_events.catalog import ContractSigned
from jicai_events.consumer import Subscription
from jicai_events.topics import CONTRACTS
from jicai_kit.runtime import ConsumerSpec, ServiceRuntime
from jicai_kit.settings import ServiceSettings
from jicai_orders.adapters.tables import event_tables
from jicai_orders.entrypoints.handlers import on_contract_signed
from jicai_orders.settings import Settings

CONTRACTS_CONSUMER = ConsumerSpec(
    name="orders.contracts",
    topics=(CONTRACTS,),
    subscriptions=(Subscription(ContractSigned, on_contract_signed),),
)


def make_runtime(settings: ServiceSettings) -> ServiceRuntime:
    return ServiceRuntime(settings=settings, tables=event_tables, consumers=(CONTRACTS_CONSUMER,))


def load_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
