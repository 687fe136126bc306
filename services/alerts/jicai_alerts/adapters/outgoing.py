"""Translation of alerts domain events into integration events (the edge).

Decisions the other services act on are published; facts kept for deciding
(payments, closed days, counted purchases) and the closing of a warning stay
inside. Every domain event is in exactly one of the two tables, so a new one
fails loudly until someone decides which.
"""
from __future__ import annotations

import jicai_events.catalog as ie
from jicai_alerts.domain import calendar_year as cy
from jicai_alerts.domain import events as e
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_events.base import IntegrationEvent
from jicai_events.domain_events import DomainEvent

PUBLISHED: dict[type[DomainEvent], type[IntegrationEvent]] = {
    e.PaymentDeadlineSet: ie.PaymentDeadlineSet,
    e.PaymentOverdueWarned: ie.PaymentOverdueWarned,
    e.SettlementWithheld: ie.SettlementWithheld,
    e.SettlementReleased: ie.SettlementReleased,
    v.VolumeCompletionWarned: ie.VolumeCompletionWarned,
    v.SettlementSuspended: ie.SettlementSuspended,
    v.SettlementResumed: ie.SettlementResumed,
    v.VolumeExemptionGranted: ie.VolumeExemptionGranted,
    v.VolumeExemptionRevoked: ie.VolumeExemptionRevoked,
    n.NonWinningPurchaseCapExceeded: ie.NonWinningPurchaseCapExceeded,
    k.FilingWarningLineExceeded: ie.FilingPurchaseWarningLineExceeded,
    mr.ManufacturerReportMissed: ie.ManufacturerReportMissed,
    mr.ManufacturerReportMissClosed: ie.ManufacturerReportMissClosed,
}
"""Domain event → the integration event it is published as (same field names)."""

KEPT_INSIDE: frozenset[type[DomainEvent]] = frozenset({
    e.OverdueWarningResolved, e.PaymentApplied, e.PaymentReceived, e.BusinessDayClosed, e.CreditApplied, e.VoidApplied,
    e.InvoiceAwaitingCalendar, e.WithholdDateSet, e.ClockRestartAwaitingCalendar, cy.CalendarYearLoaded,
    v.ContractTracked, v.AgreementTracked, v.AgreementAmended, v.AcceptanceCounted, v.ReturnCounted, v.PeriodEvaluated,
    n.WinningProductTracked, n.WinningAcceptanceCounted, n.NonWinningPurchaseCounted, n.NonWinningMonthEvaluated,
    k.PurchaseCounted, k.FilingCounted, k.FilingWarningLineSet,
    mr.ManufacturerContractTracked, mr.ManufacturerReportCounted, mr.ManufacturerMonthChecked,
})


def translate(event: DomainEvent) -> IntegrationEvent | None:
    """The integration event to publish for ``event``, or None for a fact the service keeps to itself."""
    model = PUBLISHED.get(type(event))
    if model is not None:
        # Read from the event's attributes (the fields the integration event names): no dump into a dict first.
        published: IntegrationEvent = model.model_validate(event, from_attributes=True)
        return published
    if type(event) in KEPT_INSIDE:
        return None
    raise TypeError(f"no translation for {type(event).__name__}")
