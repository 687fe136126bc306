"""Running a command: one unit of work, retried on a lost race, refusals as problems.

Two identical requests racing (a HIS retrying while the first is in flight)
collide on the event store's unique (stream, version); the loser retries,
sees the winner's events and records nothing: counted once. A database lost
before the commit answers 503 (nothing recorded); lost during the commit, 503
saying the outcome is unknown (a retry of the same request tells).
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from jicai_events.rules import Conflict, RuleViolated
from jicai_events.store import ConcurrencyConflict
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit import consistency
from jicai_kit.problems import busy, conflict, database_unreachable, invalid, outcome_unknown
from jicai_kit.runtime import ServiceRuntime

T = TypeVar("T")


async def execute(runtime: ServiceRuntime, command: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``command`` in its own transaction; commit when it returns."""
    committing = False

    async def once() -> T:
        nonlocal committing
        committing = False
        async with runtime.unit_of_work() as uow:
            result = await command(uow)
            committing = True  # leaving the block commits
        consistency.remember(uow.published)  # committed: the response names them
        return result

    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(ConcurrencyConflict),
            wait=wait_random_exponential(multiplier=0.02, max=0.5),
            stop=stop_after_attempt(8),
            reraise=True,
        ):
            with attempt:
                return await once()
    except RuleViolated as exc:
        raise invalid(exc.field, exc.reason) from exc
    except Conflict as exc:
        raise conflict(str(exc)) from exc
    except ConcurrencyConflict as exc:
        raise busy("the record is being changed by another request; repeat the same request after Retry-After") from exc
    except Exception as exc:
        if committing and database_unreachable(exc):
            raise outcome_unknown() from exc
        raise
    raise AssertionError("unreachable")


async def query(runtime: ServiceRuntime, read: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run a read: one read-only snapshot for all its statements (``ServiceRuntime.read_session_factory``)."""
    async with runtime.unit_of_work(read_only=True) as uow:
        return await read(uow)


async def read_rows(runtime: ServiceRuntime, rows: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """``query`` on a bare Core connection (the same snapshot rule): no session, unit of work or event store built around two
    SELECTs, for the reads a client polls (a settlement status at 200 req/s: the ORM session was a third of it)."""
    async with runtime.read_engine.connect() as connection:
        return await rows(connection)


class Recorded(BaseModel):
    """The answer to every idempotent write: 201 when it recorded something, 200 when it repeated an identical earlier one."""

    id: str
    created: bool = Field(description="false when the request repeated an identical earlier one")


async def record(runtime: ServiceRuntime, response: Response, record_id: str, command: Callable[[UnitOfWork], Awaitable[bool]]) -> Recorded:
    """Run an idempotent write (``execute``) and answer 201 if it recorded something, else 200 with ``created: false``."""
    created = await execute(runtime, command)
    response.status_code = 201 if created else 200
    return Recorded(id=record_id, created=created)
