"""Kafka event handlers of the consumer group ``alerts.rules`` (CONTRACTS, ORDERS, SETTLEMENT, CLOCK, POLICY).

Each runs in the consumer's unit of work, which has already claimed the
event id: a redelivered event never reaches a handler twice.
"""
from __future__ import annotations

from collections.abc import Sequence

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.policy import policy_book
from jicai_alerts.application import acceptances, calendar, day_close, kpis, manufacturer_report, non_winning, services, volume
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_alerts.domain.events import InvoiceShare, PaymentReceived
from jicai_alerts.domain.invoice_obligation import ClosedDay, TrackInvoice
from jicai_alerts.domain.red_letter import Credit, Void
from jicai_events import Envelope
from jicai_events.base import IntegrationEvent
from jicai_events.catalog import CalendarYearLoaded as PolicyCalendarYearLoaded
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
from jicai_events.unit_of_work import UnitOfWork


async def on_invoice_received(uow: UnitOfWork, envelope: Envelope, event: InvoiceReceived) -> None:
    await services.track_invoice(uow, _tracked(envelope, event), await calendar.book_after_clock(uow, shared=True))


async def on_invoices_received(uow: UnitOfWork, received: Sequence[tuple[Envelope, InvoiceReceived]]) -> None:
    """A run of ``InvoiceReceived`` of one consumer batch, set-based (the same decisions as one by one)."""
    tracked = [(_tracked(envelope, event), envelope) for envelope, event in received]
    await services.track_invoices(uow, tracked, await calendar.book_after_clock(uow, shared=True))


def _tracked(envelope: Envelope, event: InvoiceReceived) -> TrackInvoice:
    return TrackInvoice(
        invoice_id=event.invoice_id,
        invoice_number=event.invoice_number,
        institution_id=event.institution_id,
        pooling_region_code=event.pooling_region_code,
        distributor_id=event.distributor_id,
        amount=event.amount,
        issued_on=event.issued_on,
        received_on=event.received_on,
        latest_acceptance_on=event.latest_acceptance_on,
        event_id=envelope.id,
    )


async def on_invoice_credited(uow: UnitOfWork, envelope: Envelope, event: InvoiceCredited) -> None:
    """红冲 (partial): the credit note reduces what is owed; the profile may restart the clock."""
    credit = Credit(event.invoice_id, event.credit_note_id, event.amount, event.received_on, envelope.id)
    await services.credit_invoice(uow, credit, await calendar.book_after_clock(uow, shared=True))


async def on_invoice_voided(uow: UnitOfWork, envelope: Envelope, event: InvoiceVoided) -> None:
    """红冲 (whole): nothing is owed any more."""
    await services.void_invoice(uow, Void(event.invoice_id, event.voided_on, envelope.id))


async def on_payment_recorded(uow: UnitOfWork, envelope: Envelope, event: PaymentRecorded) -> None:
    received = PaymentReceived(
        payment_id=event.payment_id,
        institution_id=event.institution_id,
        distributor_id=event.distributor_id,
        paid_on=event.paid_on,
        amount=event.amount,
        shares=tuple(InvoiceShare(invoice_id=a.invoice_id, amount=a.amount) for a in event.allocations),
        payment_event_id=envelope.id,
    )
    await services.record_payment(uow, received)


async def on_policy_changed(uow: UnitOfWork, envelope: Envelope, event: IntegrationEvent) -> None:
    """A change on the policy topic, stored (``jicai_kit.policy``): a calendar year decides what waited for it."""
    if isinstance(event, PolicyCalendarYearLoaded):
        await calendar.decide_waiting(uow)


async def on_day_closed(uow: UnitOfWork, envelope: Envelope, event: DayClosed) -> None:
    # No clock lock here: the close's chunks commit in their own transactions and take it there.
    await day_close.close_day(uow, ClosedDay(event.business_date, envelope.id))


async def on_contract_signed(uow: UnitOfWork, envelope: Envelope, event: ContractSigned) -> None:
    contract = v.ContractTracked(
        contract_id=event.contract_id,
        institution_id=event.institution_id,
        pooling_region_code=event.pooling_region_code,
        product_id=event.product_id,
        unit_price=event.unit_price,
        agreed_quantity=event.agreed_quantity,
        cycle_start=event.cycle_start,
        cycle_end=event.cycle_end,
        contract_event_id=envelope.id,
    )
    await volume.track_contract(uow, contract, policy_book())
    last_closed = await repo.last_closed_day(uow)
    await manufacturer_report.track_contract(
        uow,
        mr.ManufacturerContractTracked(
            contract_id=event.contract_id, manufacturer_id=event.manufacturer_id, pooling_region_code=event.pooling_region_code,
            cycle_start=event.cycle_start, cycle_end=event.cycle_end,
            known_after=last_closed.business_date if last_closed else None, contract_event_id=envelope.id,
        ),
    )


async def on_manufacturer_report_submitted(uow: UnitOfWork, envelope: Envelope, event: ManufacturerReportSubmitted) -> None:
    """A manufacturer's monthly report (Hubei 003 §五(二)); a late one closes the month's miss."""
    report = mr.ManufacturerReportCounted(
        report_id=event.report_id, manufacturer_id=event.manufacturer_id, month=event.month, submitted_on=event.submitted_on,
        report_event_id=envelope.id,
    )
    await manufacturer_report.count_report(uow, report)


async def on_yearly_agreement(
    uow: UnitOfWork, envelope: Envelope, event: YearlyAgreementSigned | YearlyAgreementRolledOver
) -> None:
    """R3: the agreement year's agreed volume (约定采购量) gives the targets of its periods."""
    agreement = v.AgreementTracked(
        agreement_id=event.agreement_id, contract_id=event.contract_id, institution_id=event.institution_id,
        pooling_region_code=event.pooling_region_code, product_id=event.product_id, agreement_year=event.agreement_year,
        year_start=event.year_start, year_end=event.year_end, agreed_quantity=event.agreed_quantity,
        unit_price=event.unit_price, agreement_event_id=envelope.id, rolled_over=isinstance(event, YearlyAgreementRolledOver),
    )
    await volume.track_agreement(uow, agreement, policy_book())


async def on_yearly_agreement_amended(uow: UnitOfWork, envelope: Envelope, event: YearlyAgreementAmended) -> None:
    amendment = v.AgreementAmended(
        agreement_id=event.agreement_id, contract_id=event.contract_id, institution_id=event.institution_id,
        agreed_quantity=event.agreed_quantity, previous_agreed_quantity=event.previous_agreed_quantity,
        amended_on=event.amended_on, amendment_event_id=envelope.id,
    )
    await volume.amend_agreement(uow, amendment)


async def on_delivery_returned(uow: UnitOfWork, envelope: Envelope, event: DeliveryReturned) -> None:
    """R3: returned goods (退货) no longer count toward the agreed volume."""
    returned = v.ReturnCounted(
        return_id=event.return_id, institution_id=event.institution_id, contract_id=event.contract_id,
        acceptance_id=event.acceptance_id, quantity=event.returned_quantity, returned_on=event.returned_on,
        return_event_id=envelope.id,
    )
    await volume.count_return(uow, returned)


async def on_delivery_accepted(uow: UnitOfWork, envelope: Envelope, event: DeliveryAccepted) -> None:
    await acceptances.count_acceptances(uow, [(_acceptance_counted(envelope, event), None)])


async def on_deliveries_accepted(uow: UnitOfWork, accepted: Sequence[tuple[Envelope, DeliveryAccepted]]) -> None:
    """A run of ``DeliveryAccepted`` of one consumer batch, set-based (the same decisions as one by one)."""
    await acceptances.count_acceptances(uow, [(_acceptance_counted(envelope, event), envelope) for envelope, event in accepted])


def _acceptance_counted(envelope: Envelope, event: DeliveryAccepted) -> acceptances.AcceptanceCounted:
    """R4 (base units of the group), R3 (the contract's volume), R7 (the month's purchases)."""
    return acceptances.AcceptanceCounted(
        winning=n.WinningAcceptanceCounted(
            acceptance_id=event.acceptance_id, institution_id=event.institution_id,
            pooling_region_code=event.pooling_region_code, product_id=event.product_id,
            quantity=event.accepted_quantity, accepted_on=event.accepted_on, acceptance_event_id=envelope.id,
        ),
        volume=v.AcceptanceCounted(
            acceptance_id=event.acceptance_id, institution_id=event.institution_id, contract_id=event.contract_id,
            quantity=event.accepted_quantity, accepted_on=event.accepted_on, acceptance_event_id=envelope.id,
        ),
        purchase=k.PurchaseCounted(
            fact_id=f"acceptance:{event.acceptance_id}", institution_id=event.institution_id,
            pooling_region_code=event.pooling_region_code, product_id=event.product_id, winning=True, channel=event.channel,
            on=event.accepted_on, quantity=event.accepted_quantity, amount=event.accepted_amount, generic_group_id=None,
            base_units=None, event_id=envelope.id,
        ),
    )


async def on_winning_product_listed(uow: UnitOfWork, envelope: Envelope, event: WinningProductListed) -> None:
    """R4: a winning product's generic group and conversion factor (products without a group are not compared)."""
    if event.generic_group_id is None or event.base_units_per_trading_unit is None:
        return
    product = n.WinningProductTracked(
        product_id=event.product_id, generic_group_id=event.generic_group_id,
        base_units_per_trading_unit=event.base_units_per_trading_unit, product_event_id=envelope.id,
    )
    await non_winning.track_product(uow, product)


async def on_purchase_recorded(uow: UnitOfWork, envelope: Envelope, event: PurchaseRecorded) -> None:
    """R7: every recorded purchase counts in its month's shares; R4: a non-winning one counts in its group's base units."""
    await kpis.count_purchase(
        uow,
        k.PurchaseCounted(
            fact_id=f"purchase:{event.purchase_id}", institution_id=event.institution_id,
            pooling_region_code=event.pooling_region_code, product_id=event.product_id, winning=event.winning,
            channel=event.channel, on=event.purchased_on, quantity=event.quantity, amount=event.amount,
            generic_group_id=event.generic_group_id, base_units=event.base_units, event_id=envelope.id,
        ),
    )
    if event.winning:
        return
    purchase = n.NonWinningPurchaseCounted(
        purchase_id=event.purchase_id, institution_id=event.institution_id, pooling_region_code=event.pooling_region_code,
        generic_group_id=event.generic_group_id, base_units=event.base_units, purchased_on=event.purchased_on,
        purchase_event_id=envelope.id,
    )
    await non_winning.count_purchase(uow, purchase)


async def on_filing_purchase_recorded(uow: UnitOfWork, envelope: Envelope, event: FilingPurchaseRecorded) -> None:
    """R7: a filing purchase (备案采购) counts toward the year's amount and its warning line."""
    filing = k.FilingCounted(
        filing_id=event.filing_id, institution_id=event.institution_id, pooling_region_code=event.pooling_region_code,
        amount=event.amount, purchased_on=event.purchased_on, event_id=envelope.id,
    )
    await kpis.count_filing(uow, filing, policy_book())
