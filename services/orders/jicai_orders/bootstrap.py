"""Wires the orders service: settings → runtime with its contracts consumer."""
from __future__ import annotations

from jicai_events.catalog import ContractSigned, GenericGroupDefined, NonWinningProductListed, WinningProductListed
from jicai_events.subscriptions import Subscription
from jicai_events.topics import CONTRACTS
from jicai_kit.runtime import ConsumerSpec, ServiceRuntime
from jicai_kit.settings import ServiceSettings
from jicai_orders.adapters.policy import FOLDED
from jicai_orders.adapters.tables import event_tables
from jicai_orders.entrypoints.handlers import (
    on_contract_signed,
    on_generic_group_defined,
    on_non_winning_product_listed,
    on_winning_product_listed,
)
from jicai_orders.settings import Settings

CONTRACTS_CONSUMER = ConsumerSpec(
    name="orders.contracts",
    topics=(CONTRACTS,),
    subscriptions=(
        Subscription(ContractSigned, on_contract_signed),
        Subscription(GenericGroupDefined, on_generic_group_defined),
        Subscription(WinningProductListed, on_winning_product_listed),
        Subscription(NonWinningProductListed, on_non_winning_product_listed),
    ),
)


def make_runtime(settings: ServiceSettings) -> ServiceRuntime:
    FOLDED.reset()
    FOLDED.base()  # load and validate the profiles and the calendar once, before serving
    return ServiceRuntime(settings=settings, tables=event_tables, consumers=(CONTRACTS_CONSUMER,), policy=FOLDED)


def load_settings() -> Settings:
    return Settings()
