"""Use case: a business day's close (``DayClosed``), in bounded chunks, each committed with the close's progress.

A Liangjiang month end puts every invoice of a month on one deadline: a province
closes days on which 100,000 invoices fall overdue together. One transaction for
all of them held the clock lock for minutes (blocking every new invoice on every
instance), and a crash threw all of it away. So the close runs in steps, each its
own transaction under the exclusive clock lock:

1. **open**: the clock moves to day X (``BusinessDayClosed``) and every invoice whose
   decision day has come is queued (one ``INSERT … SELECT`` on the indexed
   ``next_decision_on``: a quiet close reads nothing else); the run is recorded.
2. **chunks** of ``CHUNK.size`` invoices: taken off the queue, their streams loaded in
   one query, decided in memory stage by stage (``services.decide_day_closed``, the
   same pure decisions a catch-up takes), appended, projected and published
   set-based (``day_close_store.record``), counted in the run (``GET /clock``).
3. **finish**, in the consumer's unit of work that claims the ``DayClosed`` and marks
   the day decided: R3 period ends, R4 month ends, manufacturers' reports; the run
   goes. The day counts as decided only then.

A crash between steps resumes at the queue: a committed chunk's invoices are off it
(decided exactly once), the others on it. Facts consumed between chunks (on another
instance, or another consumer) meet the clock at X, as after a close: a new invoice
catches up with X itself; a payment or credit note of a queued invoice is counted
before its chunk decides it, as if it had come just before the close. Several
instances: the consumer decides closes one at a time under an advisory lock.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from jicai_alerts.adapters import day_close_store as store
from jicai_alerts.adapters import repository as repo
from jicai_alerts.application import calendar, manufacturer_report, non_winning, services, volume
from jicai_alerts.domain import clock
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain import volume_completion as vc
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook
from jicai_policy.errors import PolicyError


@dataclass
class ChunkSize:
    size: int = 1000


CHUNK = ChunkSize()
"""Invoices per chunk; ``JICAI_DAY_CLOSE_CHUNK_SIZE`` (set once by the runtime at start)."""


async def close_day(uow: UnitOfWork, day: io.ClosedDay) -> None:
    """``DayClosed``: open (or resume) the close, decide its invoices chunk by chunk, then finish in ``uow``."""
    remaining = await _open(uow.sibling(), day)
    if remaining is None:
        return  # an older or repeated close: the clock is past it
    while remaining and await _chunk(uow.sibling(), day):  # a quiet close (nothing queued) takes no chunk
        pass
    book = await calendar.book_after_clock(uow, shared=False)
    closed = vc.ClosedDay(day.business_date, day.event_id)
    await volume.close_day(uow, closed, book)
    await non_winning.close_day(uow, closed, book)
    await manufacturer_report.close_day(uow, closed, book)
    await store.finish_run(uow, day.business_date)


async def _open(uow: UnitOfWork, day: io.ClosedDay) -> int | None:
    """Move the clock to ``day`` and queue its invoices, or find its close opened before (a resume): how many invoices
    are left to decide; None when the clock is past ``day`` already."""
    async with uow:
        await repo.lock_clock(uow, shared=False)
        run = await store.run_of(uow, day.business_date)
        if run is not None:
            return run.remaining
        last_closed = await repo.last_closed_day(uow)
        new = clock.close(last_closed.business_date if last_closed else None, day)
        if not new:
            return None
        await repo.streams.append(uow, repo.CLOCK_STREAM, "clock", await repo.stream_version(uow, repo.CLOCK_STREAM), new)
        return await store.open_run(uow, day, last_closed)


async def _chunk(uow: UnitOfWork, day: io.ClosedDay) -> bool:
    """Decide the next chunk of the close; False when none was left."""
    async with uow:
        book = await calendar.book_after_clock(uow, shared=False)
        invoice_ids = await store.take_chunk(uow, day.business_date, CHUNK.size)
        if not invoice_ids:
            return False
        streams = await store.load_streams(uow, invoice_ids)
        decided, blocked = decide_chunk(streams, day, book)
        await store.record(uow, decided)
        for invoice_id, reason in blocked.items():  # rare: a profile or calendar the rules cannot decide with yet
            await repo.record_blocked(uow, invoice_id, day.business_date, reason)
        await store.clear_blocked(uow, [i for i in invoice_ids if i not in blocked])
        await store.count_decided(uow, day.business_date, len(invoice_ids))
        return True


def decide_chunk(
    streams: dict[str, list[io.Recorded]], day: io.ClosedDay, book: PolicyBook
) -> tuple[list[store.Decided], dict[str, str]]:
    """Each invoice's decisions once ``day`` has closed, stage by stage in memory (a withhold names its warning's
    event id, so ids are given here); and the invoices the rules could not decide, with the reason (nothing of
    theirs is recorded: one invoice must not hold back the close of every other)."""
    decided: list[store.Decided] = []
    blocked: dict[str, str] = {}
    ids = event_ids()
    for invoice_id, recorded in streams.items():
        state = io.fold(recorded)
        new: list[io.Recorded] = []
        try:
            for _ in range(services.MAX_STAGES):
                stage = services.decide_day_closed(state, day, book)
                if not stage:
                    break
                for event in stage:
                    event_id = next(ids)
                    new.append((event, event_id))
                    assert isinstance(state, io.InvoiceObligation)
                    state = io.evolve(event, state, event_id)
            else:
                raise RuntimeError(f"invoice {invoice_id}: decisions did not settle after {services.MAX_STAGES} stages")
        except PolicyError as exc:
            blocked[invoice_id] = f"{type(exc).__name__}: {exc}"
            continue
        if new:
            assert isinstance(state, io.InvoiceObligation)
            decided.append(store.Decided(invoice_id, len(recorded), new, state))
    return decided, blocked


def event_ids(per_read: int = 1024) -> Iterator[str]:
    """Fresh random (version 4) UUIDs as text, as ``str(uuid.uuid4())`` gives them, from one ``os.urandom`` read
    per ``per_read``: a close of thousands of decisions spent 7 % of its time in ``uuid4`` (a system call and a
    ``UUID`` object per id)."""
    while True:
        pool = bytearray(os.urandom(16 * per_read))
        for i in range(0, len(pool), 16):
            pool[i + 6] = (pool[i + 6] & 0x0F) | 0x40  # version 4
            pool[i + 8] = (pool[i + 8] & 0x3F) | 0x80  # RFC 4122 variant
            h = pool[i:i + 16].hex()
            yield f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


async def closing(uow: UnitOfWork) -> store.CloseRun | None:
    """The close in progress, if any (``GET /clock``)."""
    return await store.run_of(uow)


async def last_decided_day(uow: UnitOfWork) -> io.ClosedDay | None:
    """The last day whose decisions are all taken: the clock, or the day before a close in progress."""
    run = await store.run_of(uow)
    return run.previous if run is not None else await repo.last_closed_day(uow)
