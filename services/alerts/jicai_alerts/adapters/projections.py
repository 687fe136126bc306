"""Read models of the alerts service, folded from its domain events.

The invoice row is the folded obligation itself (refolded from its short
stream), so amounts, status and ``next_decision_on`` are computed by the
domain and never twice.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import singledispatch
from typing import Any

from sqlalchemy import RowMapping, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

import jicai_events.catalog as ie
from jicai_alerts.adapters import non_winning_projections, volume_projections
from jicai_alerts.adapters import tables as t
from jicai_alerts.domain import events as e
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain.calendar_year import CalendarYearLoaded
from jicai_alerts.domain.non_winning_events import NON_WINNING_EVENTS
from jicai_alerts.domain.volume_events import VOLUME_EVENTS
from jicai_events.pgcopy import copy_rows
from jicai_events.store import EventStore
from jicai_events.unnest import insert_rows

KIND = {
    e.PaymentDeadlineSet: "payment_deadline",
    e.PaymentOverdueWarned: "overdue_warning",
    e.OverdueWarningResolved: "warning_resolved",
    e.SettlementWithheld: "settlement_withheld",
    e.SettlementReleased: "settlement_released",
}


def invoice_stream(invoice_id: str) -> str:
    return f"invoice-{invoice_id}"


@singledispatch
async def project(event: object, session: AsyncSession) -> None:
    raise TypeError(f"no projection for {type(event).__name__}")


@project.register
async def _(event: e.PaymentDeadlineSet, session: AsyncSession) -> None:
    await _observed(session, event.caused_by[0], ie.InvoiceReceived.type_name(), event.invoice_id, event.received_on)
    await _decision(session, event, event.deadline)


@project.register
async def _(event: e.InvoiceAwaitingCalendar, session: AsyncSession) -> None:
    await _observed(session, event.invoice_event_id, ie.InvoiceReceived.type_name(), event.invoice_id, event.received_on)


@project.register
async def _(event: CalendarYearLoaded, session: AsyncSession) -> None:
    await session.execute(
        insert(t.calendar_years).values(
            year=event.year, source=event.source, holidays=[d.isoformat() for d in event.holidays],
            makeup_working_days=[d.isoformat() for d in event.makeup_working_days], loaded_by=event.loaded_by,
        )
    )


@project.register
async def _(event: e.WithholdDateSet | e.ClockRestartAwaitingCalendar, session: AsyncSession) -> None:
    pass  # the invoice row is refolded


@project.register
async def _(event: e.PaymentApplied, session: AsyncSession) -> None:
    pass  # the allocation row exists since PaymentReceived; the invoice row is refolded


@project.register
async def _(event: e.CreditApplied, session: AsyncSession) -> None:
    await _observed(session, event.credit_event_id, ie.InvoiceCredited.type_name(), event.invoice_id, event.received_on)


@project.register
async def _(event: e.VoidApplied, session: AsyncSession) -> None:
    await _observed(session, event.void_event_id, ie.InvoiceVoided.type_name(), event.invoice_id, event.voided_on)


@project.register
async def _(event: e.PaymentOverdueWarned, session: AsyncSession) -> None:
    await _decision(session, event, event.warned_on)
    await _open_alert(session, event, "overdue_warning", event.warned_on, event.deadline)


@project.register
async def _(event: e.SettlementWithheld, session: AsyncSession) -> None:
    await withheld(session, event, (await _invoice_row(session, event.invoice_id))["deadline"])


async def withheld(session: AsyncSession, event: e.SettlementWithheld, deadline: date) -> None:
    """The withhold's decision and its open alert, under the invoice's deadline (from its row, or in a rebuild its fold)."""
    await _decision(session, event, event.withheld_from)
    await _open_alert(session, event, "settlement_withheld", event.withheld_from, deadline)


@project.register
async def _(event: e.OverdueWarningResolved, session: AsyncSession) -> None:
    await _decision(session, event, event.resolved_on)
    await _close_alerts(session, event.invoice_id, event.resolved_on, event.decision_id)


@project.register
async def _(event: e.SettlementReleased, session: AsyncSession) -> None:
    await _decision(session, event, event.released_on)
    await _close_alerts(session, event.invoice_id, event.released_on, event.decision_id)


@project.register
async def _(event: e.PaymentReceived, session: AsyncSession) -> None:
    await _observed(session, event.payment_event_id, ie.PaymentRecorded.type_name(), event.payment_id, event.paid_on)
    for share in event.shares:
        await session.execute(
            insert(t.payment_allocations)
            .values(
                payment_id=event.payment_id, invoice_id=share.invoice_id, institution_id=event.institution_id,
                amount=share.amount, paid_on=event.paid_on, payment_event_id=event.payment_event_id,
            )
            .on_conflict_do_nothing()
        )


@project.register
async def _(event: e.BusinessDayClosed, session: AsyncSession) -> None:
    day = event.business_date
    observed = (
        insert(t.observed_events).values(_observed_row(event.day_closed_event_id, ie.DayClosed.type_name(), day.isoformat(), day))
        .on_conflict_do_nothing().cte("observed")
    )
    values = {"last_closed_on": day, "day_closed_event_id": event.day_closed_event_id}
    await session.execute(  # both rows in one statement: one round trip per closed day
        insert(t.clock).values(clock_id="business", **values).on_conflict_do_update(index_elements=["clock_id"], set_=values).add_cte(observed)
    )


async def apply(session: AsyncSession, event: e.AlertsEvent) -> None:
    if isinstance(event, VOLUME_EVENTS):
        await volume_projections.apply(session, event)
        return
    if isinstance(event, NON_WINNING_EVENTS):
        await non_winning_projections.apply(session, event)
        return
    await project(event, session)
    if isinstance(event, e.ObligationEvent):
        await _refresh_invoice(session, event.invoice_id)


async def deadlines_set(session: AsyncSession, events: Sequence[e.PaymentDeadlineSet]) -> None:
    """``apply`` of many ``PaymentDeadlineSet`` at once: the invoices observed, their decisions, their rows refolded."""
    await deadlines_decided(session, events)
    await _refresh_invoices(session, sorted({event.invoice_id for event in events}))


async def deadlines_decided(session: AsyncSession, events: Sequence[e.PaymentDeadlineSet]) -> None:
    """What ``deadlines_set`` writes besides the invoices' rows: the invoices observed, their decisions (new rows, as
    ``_decision`` inserts them: a COPY, whose rows psycopg formats in C)."""
    await insert_rows(
        session, t.observed_events,
        [_observed_row(event.caused_by[0], ie.InvoiceReceived.type_name(), event.invoice_id, event.received_on) for event in events],
        on_conflict=(),
    )
    await copy_rows(session, t.decisions, [decision_row(event, event.deadline) for event in events])


async def _refresh_invoice(session: AsyncSession, invoice_id: str) -> None:
    await _refresh_invoices(session, [invoice_id])


async def _refresh_invoices(session: AsyncSession, invoice_ids: Sequence[str]) -> None:
    """Refold each invoice's stream (one query for all) into its row (one statement for all)."""
    loaded = await EventStore(session, t.event_tables).load_many([invoice_stream(i) for i in invoice_ids])
    recorded = {stream_id: [(e.decode_obligation(event_type, data), event_id) for event_id, event_type, data in events]
                for stream_id, events in loaded.items()}
    values = [row for i in invoice_ids if (row := invoice_row(i, io.fold(recorded[invoice_stream(i)]))) is not None]
    if values:
        await insert_rows(session, t.invoices, values, on_conflict=["invoice_id"], update=[c for c in values[0] if c != "invoice_id"])


def invoice_row(invoice_id: str, state: io.State) -> dict[str, Any] | None:
    """The ``invoices`` row of the obligation folded from the invoice's stream (none before it is tracked)."""
    if state is None:
        return None
    return {"invoice_id": invoice_id, **(_awaiting_row(state) if isinstance(state, io.AwaitingCalendar) else invoice_values(state))}


def _awaiting_row(state: io.AwaitingCalendar) -> dict[str, Any]:
    """An invoice whose deadline waits for the calendar: its facts, what is credited, no dates decided."""
    i = state.invoice
    return {
        **i.model_dump(include={
            "invoice_number", "institution_id", "pooling_region_code", "distributor_id", "amount", "issued_on", "received_on",
            "latest_acceptance_on", "rule", "profile_id", "profile_version",
        }),
        "paid": state.paid, "credited": state.credited, "outstanding": state.outstanding, "deadline": None,
        "status": io.Status.VOIDED.value if state.voided_on else io.Status.WAITING_FOR_CALENDAR.value,
        "warned_on": None, "resolved_on": None, "withheld_from": None, "released_on": None, "voided_on": state.voided_on,
        "paid_in_full_on": None, "next_decision_on": None, "waiting_for_calendar_year": io.waiting_for_year(state),
    }


def invoice_values(state: io.InvoiceObligation) -> dict[str, Any]:
    tracked = state.tracked
    return {
        "invoice_number": tracked.invoice_number,
        "institution_id": tracked.institution_id,
        "pooling_region_code": tracked.pooling_region_code,
        "distributor_id": tracked.distributor_id,
        "amount": tracked.amount,
        "paid": state.paid,
        "credited": state.credited,
        "outstanding": state.outstanding,
        "issued_on": tracked.issued_on,
        "received_on": tracked.received_on,
        "latest_acceptance_on": tracked.latest_acceptance_on,
        "deadline": state.deadline,
        "rule": tracked.rule,
        "profile_id": tracked.profile_id,
        "profile_version": tracked.profile_version,
        "status": io.status(state).value,
        "warned_on": state.warned_on,
        "resolved_on": state.resolved_on,
        "withheld_from": state.withheld_from,
        "released_on": state.released_on,
        "voided_on": state.voided_on,
        "paid_in_full_on": state.paid_in_full_on(),
        "next_decision_on": io.next_decision_on(state),
        "waiting_for_calendar_year": io.waiting_for_year(state),
    }


async def _invoice_row(session: AsyncSession, invoice_id: str) -> RowMapping:
    return (await session.execute(t.invoices.select().where(t.invoices.c.invoice_id == invoice_id))).mappings().one()


async def _decision(session: AsyncSession, event: e.Decision, effective_on: date) -> None:
    await session.execute(insert(t.decisions).values(decision_row(event, effective_on)))


def decision_row(event: e.Decision, effective_on: date) -> dict[str, Any]:
    """The ``decisions`` row of a decision (one shape for the per-event and the set-based projection)."""
    return {
        "decision_id": event.decision_id,
        "kind": KIND[type(event)],
        "invoice_id": event.invoice_id,
        "institution_id": event.institution_id,
        "stream_id": invoice_stream(event.invoice_id),
        "event_name": event.name,
        "effective_on": effective_on,
        "profile_id": event.profile_id,
        "profile_version": event.profile_version,
        "caused_by": list(event.caused_by),
    }


async def _open_alert(
    session: AsyncSession, event: e.PaymentOverdueWarned | e.SettlementWithheld, kind: str, since: date, deadline: date
) -> None:
    await session.execute(insert(t.alerts).values(alert_row(event, kind, since, deadline)))


def alert_row(event: e.PaymentOverdueWarned | e.SettlementWithheld, kind: str, since: date, deadline: date) -> dict[str, Any]:
    """The open ``alerts`` row of a warning or withhold."""
    return {
        "alert_id": event.decision_id, "kind": kind, "institution_id": event.institution_id, "invoice_id": event.invoice_id,
        "since": since, "deadline": deadline, "outstanding_amount": event.outstanding_amount,
        "profile_id": event.profile_id, "profile_version": event.profile_version,
    }


async def _close_alerts(session: AsyncSession, invoice_id: str, closed_on: date, closed_by: str) -> None:
    """Full payment closes the invoice's warning and withhold together."""
    await session.execute(
        update(t.alerts)
        .where(t.alerts.c.invoice_id == invoice_id, t.alerts.c.closed_on.is_(None))
        .values(closed_on=closed_on, closed_by=closed_by)
    )


async def _observed(session: AsyncSession, event_id: str, event_type: str, subject: str, business_date: date) -> None:
    """Remember a consumed event, so a decision can say what caused it."""
    await session.execute(insert(t.observed_events).values(_observed_row(event_id, event_type, subject, business_date)).on_conflict_do_nothing())


def _observed_row(event_id: str, event_type: str, subject: str, business_date: date) -> dict[str, Any]:
    return {"event_id": event_id, "event_type": event_type, "subject": subject, "business_date": business_date}
