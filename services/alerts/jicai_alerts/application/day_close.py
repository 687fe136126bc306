"""Use case: a business day's close (``DayClosed``), in bounded chunks, each committed with the close's progress.

A Liangjiang month end puts every invoice of a month on one deadline: a province
closes days on which 100,000 invoices fall overdue together. One transaction for
all of them held the clock lock for minutes (blocking every new invoice on every
instance), and a crash threw all of it away. So the close runs in steps, each its
own transaction:

1. **open** (the clock lock exclusive): the clock moves to day X (``BusinessDayClosed``)
   and every invoice whose decision day has come is queued with its institution's
   orders-topic partition (one ``INSERT … SELECT`` on the indexed ``next_decision_on``:
   a quiet close reads nothing else); the run is recorded.
2. **chunks** of ``CHUNK.size`` invoices: taken off the queue (``FOR UPDATE SKIP LOCKED``),
   their streams loaded in one query, decided in memory stage by stage
   (``services.decide_day_closed``, the same pure decisions a catch-up takes), appended,
   projected and published set-based (``day_close_store.record``), counted in the run
   (``GET /clock``). An instance decides ``CHUNK.at_once`` chunks side by side, each in
   its own transaction: one is decided in Python while PostgreSQL writes another.
3. **finish** (the clock lock exclusive), in the consumer's unit of work that claims the
   ``DayClosed`` and marks the day decided: R3 period ends, R4 month ends, manufacturers'
   reports; the run goes. The day counts as decided only then.

Several instances share the consumer group, and the clock topic's one partition reaches
one of them: the instance that takes the decider's advisory lock (``jicai_events.day_closes``)
opens the close, and every instance learns of it from the run's row (``share``, every
second): each takes chunks of the orders partitions it is assigned, then of any partition
(the others' share, a killed instance's), so the instances decide side by side. A chunk
takes the clock lock *shared* and its invoices' advisory locks, as a payment or a credit
note does: a fact consumed during the close waits for the chunk deciding its invoice (or
the chunk for it), and is counted as if it had come just before the close or just after,
as on one instance. The opener waits for the chunks others hold, on their queue rows'
locks (committed: decided; rolled back, their instance killed: queued again, and taken)
before it finishes; alone, it finishes as its last chunk commits.

A quiet day (no invoice due, no close in progress: most days) takes none of these steps: the clock moves and the
other rules decide in the consumer's one unit of work, the clock lock held exclusively (``_close_quietly``), a dozen
statements in all; a crash rolls all of it back with the claim, so it has nothing to resume.

A crash between steps resumes at the queue: a committed chunk's invoices are off it
(decided exactly once), the others on it; the opener's crash leaves the close to the
next decider (``_open`` finds the run). Facts consumed between chunks meet the clock
at X, as after a close: a new invoice catches up with X itself.
"""
from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass

from jicai_alerts.adapters import day_close_store as store
from jicai_alerts.adapters import repository as repo
from jicai_alerts.adapters.metrics import DAY_CLOSE_DECIDED
from jicai_alerts.adapters.policy import current_book
from jicai_alerts.application import manufacturer_report, non_winning, services, volume
from jicai_alerts.domain import clock
from jicai_alerts.domain import invoice_obligation as io
from jicai_alerts.domain import volume_completion as vc
from jicai_events.day_closes import assigned_partitions
from jicai_events.store import ConcurrencyConflict
from jicai_events.topics import ORDERS
from jicai_events.unit_of_work import UnitOfWork
from jicai_policy import PolicyBook
from jicai_policy.errors import PolicyError


@dataclass
class ChunkSize:
    size: int = 1000
    at_once: int = 2
    """Chunks one instance decides side by side, each in its own transaction: while PostgreSQL writes one chunk, the
    process decides the next in Python (one at a time, the process and its database backend took turns)."""


CHUNK = ChunkSize()
"""Invoices per chunk; ``JICAI_DAY_CLOSE_CHUNK_SIZE`` (set once by the runtime at start)."""


async def close_day(uow: UnitOfWork, day: io.ClosedDay) -> None:
    """``DayClosed``: open (or resume) the close, decide its invoices chunk by chunk, then finish in ``uow``; a quiet
    day all in ``uow``."""
    if await _close_quietly(uow, day):
        return
    remaining = await _open(uow.sibling(), day)
    if remaining is None:
        return  # an older or repeated close: the clock is past it
    if remaining:
        await _decide_queued(uow, day, takers=CHUNK.at_once if remaining > CHUNK.size else 1)
    await repo.lock_clock(uow, shared=False)
    await _finish(uow, day, await store.outlook(uow, day.business_date))
    await store.finish_run(uow, day.business_date)


async def _close_quietly(uow: UnitOfWork, day: io.ClosedDay) -> bool:
    """A quiet day (no invoice due, no close in progress: most days) closes in the consumer's unit of work, the clock
    lock held throughout: the clock's move and the other rules' decisions commit together with the claim, so there is
    nothing to resume (no run, no queue) and nothing to share. False if the day has invoices due (or a close is in
    progress): the chunked close takes it.

    The first look takes no lock, so that a busy day leaves the clock lock free for its opener and chunks; the
    second, under the lock, is what the close acts on. An invoice falling due in between (or another instance
    opening the close) loses this close the race: ``ConcurrencyConflict``, retried, takes the chunked path."""
    if not (await store.outlook(uow, day.business_date)).quiet:
        return False
    await repo.lock_clock(uow, shared=False)
    seen = await store.outlook(uow, day.business_date)
    if not seen.quiet:
        raise ConcurrencyConflict(repo.CLOCK_STREAM, seen.clock_version)
    new = clock.close(seen.last_closed.business_date if seen.last_closed else None, day)
    if new:  # else an older or repeated close: the clock is past it
        await repo.streams.append(uow, repo.CLOCK_STREAM, "clock", seen.clock_version, new)
        await _finish(uow, day, seen)
    return True


async def _finish(uow: UnitOfWork, day: io.ClosedDay, seen: store.Outlook) -> None:
    """The other rules' decisions of the day (the clock at ``day``, its lock held exclusively): R3 period ends, R4
    month ends, manufacturers' reports, each over the keys ``seen`` found due under the lock."""
    book = await current_book(uow)
    closed = vc.ClosedDay(day.business_date, day.event_id)
    await volume.close_day(uow, closed, book, seen.volume_due)
    await non_winning.close_day(uow, closed, book, seen.non_winning_due)
    await manufacturer_report.close_day(uow, closed, book, seen.manufacturers_due)


SHARE_SLICE_S = 10.0
"""An instance taking its share goes back to its partitions' records after this long (its payments wait meanwhile, and
Kafka expects a poll every few minutes); the next share follows the next poll."""


async def share(uow: UnitOfWork) -> bool:
    """``ShareDayClose``: this instance's share of a close in progress (another instance opened it): chunks of its
    partitions, then of any, until none is free or ``SHARE_SLICE_S`` has passed; neither waiting for the others'
    chunks nor finishing. True if a close was in progress."""
    async with uow.sibling() as look:
        run = await store.run_of(look)
    if run is None:
        return False
    uow.correlation_id, uow.causation_id = run.correlation_id, run.day_closed_event_id  # as the opener's chunks
    await _take_chunks(uow, io.ClosedDay(run.business_date, run.day_closed_event_id), "share", time.monotonic() + SHARE_SLICE_S)
    return True


async def _open(uow: UnitOfWork, day: io.ClosedDay) -> int | None:
    """Move the clock to ``day`` and queue its invoices, or find its close opened before (a resume): how many invoices
    are left to decide; None when the clock is past ``day`` already."""
    async with uow:
        await repo.lock_clock(uow, shared=False)
        run = await store.run_of(uow, day.business_date)
        if run is not None:
            return run.remaining
        seen = await store.outlook(uow, day.business_date)
        new = clock.close(seen.last_closed.business_date if seen.last_closed else None, day)
        if not new:
            return None
        await repo.streams.append(uow, repo.CLOCK_STREAM, "clock", seen.clock_version, new)
        return await store.open_run(uow, day, seen.last_closed)


async def _decide_queued(uow: UnitOfWork, day: io.ClosedDay, takers: int) -> None:
    """Take chunks until the queue is empty; then, if other instances' chunks hold invoices, wait for them (on their
    rows' locks) and take what their rollback queued again. Alone, the opener finishes as its last chunk commits.

    ``takers``: one for a close that fits in one chunk (a second taker buys nothing there, and two racing for one
    chunk's rows split it at random: the outbox order of a replay would differ from the live one's)."""
    while True:
        await _take_chunks(uow, day, "opener", until=None, takers=takers)
        async with uow.sibling() as look:
            if not await store.wait_queued(look, day.business_date):
                return


async def _take_chunks(uow: UnitOfWork, day: io.ClosedDay, role: str, until: float | None, takers: int = 0) -> None:
    """``takers`` (default ``CHUNK.at_once``) side by side, each taking chunks of the orders partitions this instance is assigned,
    then of any, until no queued invoice is free (or the monotonic clock reaches ``until``). A taker failing stops the
    others after their chunk in flight (not cancelled mid-way), then its error is raised, as one taker alone raises it
    (the consumer retries what is transient)."""
    partitions = [*sorted(assigned_partitions(ORDERS.qualified()) or ()), None]
    stop = asyncio.Event()

    async def taker() -> None:
        try:
            for partition in partitions:
                after = ""
                while not stop.is_set():
                    taken = await _chunk(uow.sibling(), day, partition, after)
                    if taken:
                        DAY_CLOSE_DECIDED.labels(role).inc(len(taken))
                        if until is not None and time.monotonic() > until:
                            return
                        after = taken[-1]
                    elif after:
                        after = ""  # once more from the start: rows a rolled-back chunk queued again behind this taker
                    else:
                        break
        except BaseException:
            stop.set()
            raise

    for outcome in await asyncio.gather(*(taker() for _ in range(max(1, takers or CHUNK.at_once))), return_exceptions=True):
        if isinstance(outcome, BaseException):
            raise outcome


async def _chunk(uow: UnitOfWork, day: io.ClosedDay, partition: int | None, after: str = "") -> list[str]:
    """Decide the next chunk of the close (of ``partition``; None: of any; ids after ``after``): the invoices it took,
    in id order (none: none free)."""
    async with uow:
        # Shared: the chunks of several instances run side by side; new invoices (shared) catch up with the day
        # themselves; a calendar year (exclusive) waits for them. The book: every change stored so far.
        await repo.lock_clock(uow, shared=True)
        book = await current_book(uow, force=True)
        invoice_ids = await store.take_chunk(uow, day.business_date, CHUNK.size, partition, after)
        if not invoice_ids:
            return []
        await repo.lock_many(uow, [repo.invoice_lock(i) for i in invoice_ids])  # as a payment or a credit note does
        streams = await store.load_streams(uow, invoice_ids)
        decided, blocked = decide_chunk(streams, day, book)
        await store.record(uow, decided)
        for invoice_id, reason in blocked.items():  # rare: a profile or calendar the rules cannot decide with yet
            await repo.record_blocked(uow, invoice_id, day.business_date, reason)
        await repo.clear_blocked(uow, *(i for i in invoice_ids if i not in blocked))
        await store.count_decided(uow, day.business_date, len(invoice_ids))
        return invoice_ids


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
