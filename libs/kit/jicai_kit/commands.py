"""Running a command: one unit of work, retried on a lost race, refusals as problems.

Two identical requests racing (a HIS retrying while the first is in flight)
collide on the event store's unique (stream, version); the loser retries,
sees the winner's events and records nothing: counted once.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Response
from pydantic import BaseModel, Field
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from jicai_events.rules import Conflict, RuleViolated
from jicai_events.store import ConcurrencyConflict
from jicai_events.unit_of_work import UnitOfWork
from jicai_kit import consistency
from jicai_kit.problems import conflict, invalid
from jicai_kit.runtime import ServiceRuntime

T = TypeVar("T")


async def execute(runtime: ServiceRuntime, command: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run ``command`` in its own transaction; commit when it returns."""
    try:
        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(ConcurrencyConflict),
            wait=wait_random_exponential(multiplier=0.02, max=0.5),
            stop=stop_after_attempt(8),
            reraise=True,
        ):
            with attempt:
                async with runtime.unit_of_work() as uow:
                    result = await command(uow)
                consistency.remember(uow.published)  # committed: the response names them
                return result
    except RuleViolated as exc:
        raise invalid(exc.field, exc.reason) from exc
    except Conflict as exc:
        raise conflict(str(exc)) from exc
    except ConcurrencyConflict as exc:
        raise conflict("the record is being changed by another request; retry") from exc
    raise AssertionError("unreachable")


async def query(runtime: ServiceRuntime, read: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run a read in its own (rolled back if failing) transaction."""
    async with runtime.unit_of_work() as uow:
        return await read(uow)


class Recorded(BaseModel):
    """The answer to every idempotent write: 201 when it recorded something, 200 when it repeated an identical earlier one."""

    id: str
    created: bool = Field(description="false when the request repeated an identical earlier one")


async def record(runtime: ServiceRuntime, response: Response, record_id: str, command: Callable[[UnitOfWork], Awaitable[bool]]) -> Recorded:
    """Run an idempotent write (``execute``) and answer 201 if it recorded something, else 200 with ``created: false``."""
    created = await execute(runtime, command)
    response.status_code = 201 if created else 200
    return Recorded(id=record_id, created=created)
