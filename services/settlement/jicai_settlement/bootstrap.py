"""Wires the settlement service: settings → policy book → runtime with its three consumers."""
from __future__ import annotations

import asyncio

import jicai_events.catalog as ie
from jicai_events.subscriptions import Subscription
from jicai_events.topics import ALERTS, CONTRACTS, ORDERS
from jicai_kit.runtime import ConsumerSpec, ServiceRuntime
from jicai_kit.settings import ServiceSettings
from jicai_settlement.adapters import metrics
from jicai_settlement.adapters.policy import FOLDED
from jicai_settlement.adapters.tables import event_tables
from jicai_settlement.entrypoints import handlers
from jicai_settlement.settings import Settings

INVOICES = ConsumerSpec(
    name="settlement.invoices",
    topics=(ORDERS,),
    subscriptions=(
        Subscription(ie.InvoiceReceived, handlers.on_invoice_received),
        Subscription(ie.InvoiceCredited, handlers.on_invoice_credited),
        Subscription(ie.InvoiceVoided, handlers.on_invoice_voided),
        Subscription(ie.DeliveryAccepted, handlers.on_delivery_accepted),
        Subscription(ie.DeliveryReturned, handlers.on_delivery_returned),
    ),
)
CONTRACTS_FACTS = ConsumerSpec(
    name="settlement.contracts",
    topics=(CONTRACTS,),
    subscriptions=(
        Subscription(ie.ContractSigned, handlers.on_contract_signed),
        Subscription(ie.ContractCycleExtended, handlers.on_contract_cycle_extended),
        Subscription(ie.YearlyAgreementSigned, handlers.on_yearly_agreement_signed),
        Subscription(ie.YearlyAgreementAmended, handlers.on_yearly_agreement_amended),
        Subscription(ie.YearlyAgreementRolledOver, handlers.on_yearly_agreement_rolled_over),
    ),
)
DECISIONS = ConsumerSpec(
    name="settlement.decisions",
    topics=(ALERTS,),
    subscriptions=(
        Subscription(ie.SettlementWithheld, handlers.on_settlement_withheld),
        Subscription(ie.SettlementReleased, handlers.on_settlement_released),
        Subscription(ie.SettlementSuspended, handlers.on_settlement_suspended),
        Subscription(ie.SettlementResumed, handlers.on_settlement_resumed),
    ),
)


class SettlementRuntime(ServiceRuntime):
    """The shared runtime, plus: the withheld-institutions gauge is read from the database when workers start."""

    def start_workers(self) -> None:
        super().start_workers()
        self._gauge_init = asyncio.create_task(self._init_gauge())

    async def _init_gauge(self) -> None:
        async with self.unit_of_work() as uow:
            await metrics.refresh_now(uow)


def make_runtime(settings: ServiceSettings) -> ServiceRuntime:
    FOLDED.reset()
    FOLDED.base()  # load and validate the profiles and the calendar once, before consuming anything
    return SettlementRuntime(settings=settings, tables=event_tables, consumers=(INVOICES, DECISIONS, CONTRACTS_FACTS), policy=FOLDED)


def load_settings() -> Settings:
    return Settings()
