"""Wires the alerts service: settings → policy book → runtime with its one consumer group."""
from __future__ import annotations

from jicai_alerts.adapters.policy import FOLDED
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
from jicai_events.subscriptions import Subscription
from jicai_events.topics import CLOCK, CONTRACTS, ORDERS, POLICY, SETTLEMENT
from jicai_kit import policy as policy_changes
from jicai_kit.runtime import ConsumerSpec, ServiceRuntime
from jicai_kit.settings import ServiceSettings

INSTITUTION_COUNTS = frozenset({"institution-counts"})
"""Acceptances, purchases and returns counted in an institution's non-winning, volume and kpi streams (publish nothing)."""
INVOICES = frozenset({"invoices"})
"""Invoice streams, payments kept for them, their read models and the decisions they publish."""

RULES = ConsumerSpec(
    name="alerts.rules",
    # the policy topic too: its day-close markers hold a close back until every policy change before it is in
    topics=(CONTRACTS, ORDERS, SETTLEMENT, CLOCK, POLICY),
    subscriptions=(
        Subscription(InvoiceReceived, handlers.on_invoice_received, handlers.on_invoices_received, INVOICES),
        Subscription(InvoiceCredited, handlers.on_invoice_credited, touches=INVOICES),
        Subscription(InvoiceVoided, handlers.on_invoice_voided, touches=INVOICES),
        Subscription(PaymentRecorded, handlers.on_payment_recorded, touches=INVOICES),
        Subscription(DayClosed, handlers.on_day_closed),
        Subscription(ContractSigned, handlers.on_contract_signed),
        Subscription(DeliveryAccepted, handlers.on_delivery_accepted, handlers.on_deliveries_accepted, INSTITUTION_COUNTS),
        Subscription(WinningProductListed, handlers.on_winning_product_listed),
        Subscription(PurchaseRecorded, handlers.on_purchase_recorded, touches=INSTITUTION_COUNTS),
        Subscription(YearlyAgreementSigned, handlers.on_yearly_agreement),
        Subscription(YearlyAgreementRolledOver, handlers.on_yearly_agreement),
        Subscription(YearlyAgreementAmended, handlers.on_yearly_agreement_amended),
        Subscription(DeliveryReturned, handlers.on_delivery_returned, touches=INSTITUTION_COUNTS),
        Subscription(FilingPurchaseRecorded, handlers.on_filing_purchase_recorded),
        Subscription(ManufacturerReportSubmitted, handlers.on_manufacturer_report_submitted),
        *policy_changes.consumer_subscriptions(then=handlers.on_policy_changed),
    ),
    day_close_share=day_close.share,
)


def make_runtime(settings: ServiceSettings) -> ServiceRuntime:
    FOLDED.reset()
    FOLDED.base()  # load and validate the profiles and the calendar once, before consuming anything
    if isinstance(settings, Settings):
        day_close.CHUNK.size = settings.day_close_chunk_size  # the handlers are plain functions: one setting per process
        day_close.CHUNK.at_once = settings.day_close_chunks_at_once
    return ServiceRuntime(
        settings=settings, tables=event_tables, consumers=(RULES,), last_closed_day=day_close.last_decided_day,
        day_closing=day_close.closing, policy=FOLDED,
    )


def load_settings() -> Settings:
    return Settings()
