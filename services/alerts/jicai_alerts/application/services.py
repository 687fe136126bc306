"""Use cases: each loads a stream, asks the domain to decide, records the events.

The caller (an event handler) owns the unit of work and so the commit. A year
the working-day calendar does not cover yet is not an error: the invoice is
tracked as waiting for that year's calendar (the domain decides what it can)
and ``calendar_year_loaded`` decides what waited. Other policy errors (a
region without a profile) while tracking an invoice propagate: the consumer
dead-letters that one event with the reason. During a day close they block
only the invoice concerned: it is listed in ``blocked_decisions`` (and the
``jicai_blocked_decisions`` gauge) and retried at every later day close.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial

from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.projections import invoice_stream
from jicai_alerts.domain import invoice_decisions as decisions
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain import payment, red_letter
from jicai_alerts.domain.events import AlertsEvent, ObligationEvent, PaymentReceived
from jicai_events import Envelope
from jicai_events.streams import Decided
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook

Decide = Callable[[io.State], list[ObligationEvent]]

MAX_STAGES = 8
"""Deadline, warning, resolution, withhold, release: a day close needs at most a few rounds."""


async def track_invoice(uow: UnitOfWork, invoice: io.TrackInvoice, book: PolicyBook) -> None:
    """``InvoiceReceived``: set the deadline, count payments that came first, catch up with the clock."""
    await track_invoices(uow, [(invoice, None)], book)


async def track_invoices(uow: UnitOfWork, invoices: Sequence[tuple[io.TrackInvoice, Envelope | None]], book: PolicyBook) -> None:
    """``track_invoice`` for a run of invoices (a consumer batch's; ``Envelope``: the consumed event each answers),
    in order: their streams, early payments and the clock read once for all, every stage decided in memory
    (a later invoice of the run sees what an earlier one recorded), everything written at once."""
    await repo.lock_clock(uow, shared=True)
    ids = sorted({invoice.invoice_id for invoice, _ in invoices})
    await repo.lock_many(uow, [repo.invoice_lock(i) for i in ids])
    recorded = await repo.load_recorded_many(uow, [invoice_stream(i) for i in ids])
    early = await repo.payments_for_many(uow, ids)
    last_closed = await repo.last_closed_day(uow)
    decided: list[Decided[AlertsEvent]] = []
    for invoice, cause in invoices:
        profile = book.profile_for(invoice.pooling_region_code, on=invoice.received_on)
        stream = recorded[invoice_stream(invoice.invoice_id)]
        stages: list[Decide] = [partial(decisions.decide_on_invoice_received, invoice=invoice, profile=profile, calendar=book.calendar)]
        stages += [partial(_on_payment, payment=payment) for payment in early[invoice.invoice_id]]  # the payments that came first
        if last_closed is not None:
            stages.append(partial(decide_day_closed, day=last_closed, book=book))  # the days already closed, as of the last
        for decide in stages:
            decided += _decide_in_memory(stream, invoice.invoice_id, decide, cause)
    await repo.streams.write_many(uow, decided)


async def _catch_up(uow: UnitOfWork, invoice_id: str, book: PolicyBook) -> None:
    """Count the payments that came first, then take the decisions of the days already closed, each as of its own date."""
    for early in await repo.payments_for(uow, invoice_id):
        await _decide(uow, invoice_id, partial(_on_payment, payment=early))
    last_closed = await repo.last_closed_day(uow)
    if last_closed is not None:
        await _decide(uow, invoice_id, partial(decide_day_closed, day=last_closed, book=book))


async def calendar_year_loaded(uow: UnitOfWork, book: PolicyBook) -> list[str]:
    """A calendar year was loaded (``book`` has it): decide every invoice that waited for the calendar,
    as a run with that year known from the start would have. Returns the invoices decided."""
    await repo.lock_clock(uow, shared=False)  # no day close or new invoice in between
    decided = []
    for invoice_id in await repo.invoices_waiting_for_calendar(uow):
        await repo.lock_invoice(uow, invoice_id)

        def decide(state: io.State) -> list[ObligationEvent]:
            if state is None:
                return []
            return decisions.decide_on_calendar_loaded(state, book.get(*state.profile_ref), book.calendar)

        await _decide(uow, invoice_id, decide)
        await _catch_up(uow, invoice_id, book)
        decided.append(invoice_id)
    return decided


async def record_payment(uow: UnitOfWork, received: PaymentReceived) -> None:
    """``PaymentRecorded``: keep the payment; count it against every tracked invoice it pays."""
    shares: dict[str, Decimal] = {}
    for share in received.shares:
        shares[share.invoice_id] = shares.get(share.invoice_id, Decimal("0.00")) + share.amount
    for invoice_id in sorted(shares):  # one order everywhere: no deadlock between two payments
        await repo.lock_invoice(uow, invoice_id)
    stream_id = f"payment-{received.payment_id}"
    history, version = await repo.streams.load(uow, stream_id)
    new = payment.receive(history, received)
    if not new:
        return
    await repo.streams.append(uow, stream_id, "payment", version, new)
    for invoice_id, amount in sorted(shares.items()):
        allocation = io.Payment(received.payment_id, amount, received.paid_on, received.payment_event_id)
        await _decide(uow, invoice_id, partial(_on_payment, payment=allocation))


def _on_payment(state: io.State, payment: io.Payment) -> list[ObligationEvent]:
    # kept (payment_allocations) until the invoice arrives; counted by its date while the deadline waits
    return decisions.decide_on_payment(state, payment) if state is not None else []


def decide_day_closed(state: io.State, day: io.ClosedDay, book: PolicyBook) -> list[ObligationEvent]:
    """The next stage due for one invoice once ``day`` has closed (a catch-up, or a chunk of a day close)."""
    if not isinstance(state, io.InvoiceObligation):
        return []
    profile = book.get(*state.profile_ref)
    return decisions.decide_on_day_closed(state, day, book.calendar, profile.overdue)


async def _decide(uow: UnitOfWork, invoice_id: str, decide: Decide) -> None:
    """Decide and record stage by stage: each stage sees the event ids of the ones before."""
    stream_id = invoice_stream(invoice_id)
    recorded, version = await repo.load_recorded(uow, stream_id)
    for _ in range(MAX_STAGES):
        new = decide(io.fold(recorded))
        if not new:
            return
        stored = await repo.streams.append(uow, stream_id, "invoice", version, new)
        recorded += [(event, s.event_id) for event, s in zip(new, stored, strict=True)]
        version += len(new)
    raise RuntimeError(f"invoice {invoice_id}: decisions did not settle after {MAX_STAGES} stages")


def _decide_in_memory(recorded: list[io.Recorded], invoice_id: str, decide: Decide, cause: Envelope | None) -> list[Decided[AlertsEvent]]:
    """``_decide`` on a stream loaded already (``recorded`` grows with each stage): the events to write."""
    stream_id = invoice_stream(invoice_id)
    new_events: list[Decided[AlertsEvent]] = []
    for _ in range(MAX_STAGES):
        new = decide(io.fold(recorded))
        if not new:
            return new_events
        for event in new:
            stored = Decided[AlertsEvent](stream_id, "invoice", len(recorded) + 1, event, str(uuid.uuid4()), cause)
            recorded.append((event, stored.event_id))
            new_events.append(stored)
    raise RuntimeError(f"invoice {invoice_id}: decisions did not settle after {MAX_STAGES} stages")


async def credit_invoice(uow: UnitOfWork, credit: red_letter.Credit, book: PolicyBook) -> None:
    """``InvoiceCredited`` (红冲): count the credit under the profile the invoice was tracked with, then catch up with the clock."""
    await repo.lock_clock(uow, shared=True)
    await repo.lock_invoice(uow, credit.invoice_id)
    last_closed = await repo.last_closed_day(uow)

    def decide(state: io.State) -> list[ObligationEvent]:
        if state is None:  # orders publishes the invoice first, on the same key: this is a broken stream
            raise ValueError(f"credit note {credit.credit_note_id} for invoice {credit.invoice_id}, which is not tracked")
        profile = book.get(*state.profile_ref)
        return red_letter.decide_on_credit(state, credit, profile, book.calendar, last_closed.business_date if last_closed else None)

    await _decide(uow, credit.invoice_id, decide)
    if last_closed is not None:
        await _decide(uow, credit.invoice_id, partial(decide_day_closed, day=last_closed, book=book))


async def void_invoice(uow: UnitOfWork, void: red_letter.Void) -> None:
    """``InvoiceVoided`` (红冲): the obligation closes; a withhold it caused is lifted."""
    await repo.lock_invoice(uow, void.invoice_id)

    def decide(state: io.State) -> list[ObligationEvent]:
        if state is None:
            raise ValueError(f"invoice {void.invoice_id} is voided but not tracked")
        return red_letter.decide_on_void(state, void)

    await _decide(uow, void.invoice_id, decide)
