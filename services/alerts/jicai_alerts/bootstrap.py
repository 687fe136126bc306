"""Wires the alerts service: settings → policy book → runtime with its one consumer group."""
from __future__ import annotations

from jicai_alerts.adapters.policy import policy_book
from jicai_alerts.adapters.tables import event_tables
from jicai_alerts.application import day_close
from jicai_alerts.entrypoints import handlers
from jicai_alerts.settings import Settings
from jicai_events.catalog import (
    ContractSigned,
    DayClosed,
    DeliveryAccepted,
    DeliveryReturned,
    FilingPurchaseRecorded,
    InvoiceCredited,
    InvoiceReceived,
    InvoiceVoided,
    ManufacturerReportSubmitted,
    PaymentRecorded,
    PurchaseRecorded,
    WinningProductListed,
    YearlyAgreementAmended,
    YearlyAgreementRolledOver,
    YearlyAgreementSigned,
)
from jicai_events.consumer import Subscription
from jicai_events.topics import CLOCK, CONTRACTS, ORDERS, SETTLEMENT
from jicai_kit.runtime import ConsumerSpec, ServiceRuntime
from jicai_kit.settings import ServiceSettings

RULES = ConsumerSpec(
    name="alerts.rules",
    topics=(CONTRACTS, ORDERS, SETTLEMENT, CLOCK),
    subscriptions=(
        Subscription(InvoiceReceived, handlers.on_invoice_received),
        Subscription(InvoiceCredited, handlers.on_invoice_credited),
        Subscription(InvoiceVoided, handlers.on_invoice_voided),
        Subscription(PaymentRecorded, handlers.on_payment_recorded),
        Subscription(DayClosed, handlers.on_day_closed),
        Subscription(ContractSigned, handlers.on_contract_signed),
        Subscription(DeliveryAccepted, handlers.on_delivery_accepted),
        Subscription(WinningProductListed, handlers.on_winning_product_listed),
        Subscription(PurchaseRecorded, handlers.on_purchase_recorded),
        Subscription(YearlyAgreementSigned, handlers.on_yearly_agreement),
        Subscription(YearlyAgreementRolledOver, handlers.on_yearly_agreement),
        Subscription(YearlyAgreementAmended, handlers.on_yearly_agreement_amended),
        Subscription(DeliveryReturned, handlers.on_delivery_returned),
        Subscription(FilingPurchaseRecorded, handlers.on_filing_purchase_recorded),
        Subscription(ManufacturerReportSubmitted, handlers.on_manufacturer_report_submitted),
    ),
)


def make_runtime(settings: ServiceSettings) -> ServiceRuntime:
    policy_book()  # load and validate the profiles and the calendar once, before consuming anything
    if isinstance(settings, Settings):
        day_close.CHUNK.size = settings.day_close_chunk_size  # the handlers are plain functions: one setting per process
    return ServiceRuntime(
        settings=settings, tables=event_tables, consumers=(RULES,), last_closed_day=day_close.last_decided_day,
        day_closing=day_close.closing,
    )


def load_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
