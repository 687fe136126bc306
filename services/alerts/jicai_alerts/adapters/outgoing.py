"""Translation of alerts domain events into integration events (the edge).

Decisions the other services act on are published; facts kept for deciding
(payments, closed days) and the closing of a warning stay inside.
"""
from __future__ import annotations

from functools import singledispatch

import jicai_events.catalog as ie
from jicai_alerts.domain import events as e
from jicai_alerts.domain import kpi_events as k
from jicai_alerts.domain import manufacturer_report as mr
from jicai_alerts.domain import non_winning_events as n
from jicai_alerts.domain import volume_events as v
from jicai_events.base import IntegrationEvent


@singledispatch
def translate(event: object) -> IntegrationEvent | None:
    raise TypeError(f"no translation for {type(event).__name__}")


def _published_as(model: type[IntegrationEvent], event: e.Decision | v.VolumeEvent | n.NonWinningEvent | k.KpiEvent | mr.ManufacturerEvent) -> IntegrationEvent:
    return model(**event.model_dump(include=set(model.model_fields)))


@translate.register
def _(event: e.PaymentDeadlineSet) -> IntegrationEvent:
    return _published_as(ie.PaymentDeadlineSet, event)


@translate.register
def _(event: e.PaymentOverdueWarned) -> IntegrationEvent:
    return _published_as(ie.PaymentOverdueWarned, event)


@translate.register
def _(event: e.SettlementWithheld) -> IntegrationEvent:
    return _published_as(ie.SettlementWithheld, event)


@translate.register
def _(event: e.SettlementReleased) -> IntegrationEvent:
    return _published_as(ie.SettlementReleased, event)


@translate.register
def _(event: e.OverdueWarningResolved | e.PaymentApplied | e.PaymentReceived | e.BusinessDayClosed | e.CreditApplied | e.VoidApplied) -> None:
    return None


@translate.register
def _(event: v.VolumeCompletionWarned) -> IntegrationEvent:
    return _published_as(ie.VolumeCompletionWarned, event)


@translate.register
def _(event: v.SettlementSuspended) -> IntegrationEvent:
    return _published_as(ie.SettlementSuspended, event)


@translate.register
def _(event: v.SettlementResumed) -> IntegrationEvent:
    return _published_as(ie.SettlementResumed, event)


@translate.register
def _(event: v.VolumeExemptionGranted) -> IntegrationEvent:
    return _published_as(ie.VolumeExemptionGranted, event)


@translate.register
def _(event: v.VolumeExemptionRevoked) -> IntegrationEvent:
    return _published_as(ie.VolumeExemptionRevoked, event)


@translate.register
def _(
    event: v.ContractTracked | v.AgreementTracked | v.AgreementAmended | v.AcceptanceCounted | v.ReturnCounted | v.PeriodEvaluated,
) -> None:
    return None


@translate.register
def _(event: n.NonWinningPurchaseCapExceeded) -> IntegrationEvent:
    return _published_as(ie.NonWinningPurchaseCapExceeded, event)


@translate.register
def _(
    event: n.WinningProductTracked | n.WinningAcceptanceCounted | n.NonWinningPurchaseCounted | n.NonWinningMonthEvaluated,
) -> None:
    return None


@translate.register
def _(event: k.FilingWarningLineExceeded) -> IntegrationEvent:
    return _published_as(ie.FilingPurchaseWarningLineExceeded, event)


@translate.register
def _(event: k.PurchaseCounted | k.FilingCounted | k.FilingWarningLineSet) -> None:
    return None


@translate.register
def _(event: mr.ManufacturerReportMissed) -> IntegrationEvent:
    return _published_as(ie.ManufacturerReportMissed, event)


@translate.register
def _(event: mr.ManufacturerReportMissClosed) -> IntegrationEvent:
    return _published_as(ie.ManufacturerReportMissClosed, event)


@translate.register
def _(event: mr.ManufacturerContractTracked | mr.ManufacturerReportCounted | mr.ManufacturerMonthChecked) -> None:
    return None
