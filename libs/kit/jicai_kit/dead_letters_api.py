"""Dead letters and parked partitions on every service (operators).

``GET /dead-letters`` lists what this service's consumers refused, with the
reason and where it was read; ``POST /dead-letters/{id}/redrive`` hands the
stored message to the same consumer's handler once the cause is fixed;
``POST /dead-letters/{id}/resolve`` settles one that is not to be applied.
``GET /consumers/parked`` and ``POST /consumers/{name}/partitions/{topic}/{partition}/resume``
see and resume the partitions this instance's consumers stopped reading.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from jicai_events import dead_letters
from jicai_events.dead_letters import DeadLetter, Status
from jicai_events.subscriptions import AlreadySettled
from jicai_kit.auth import Caller, Role
from jicai_kit.problems import conflict, not_found
from jicai_kit.runtime import ServiceRuntime

router = APIRouter(tags=["operations"])


class DeadLetterView(BaseModel):
    id: int
    consumer: str
    event_id: str = Field(description="the envelope's id (an unparseable message: topic:partition:offset)")
    event_type: str
    topic: str | None = Field(description="where it was read (null: delivered without Kafka)")
    partition: int | None
    offset: int | None
    reason: str = Field(description="why it was refused (the latest refusal)")
    first_seen: datetime
    last_seen: datetime
    count: int = Field(description="how often it was refused (each refused redrive adds one)")
    status: Status = Field(description="dead: waiting; redriven: applied on a redrive; resolved: settled by an operator, not applied")
    message: str = Field(description="the raw message as received (UTF-8)")

    @classmethod
    def of(cls, d: DeadLetter) -> DeadLetterView:
        fields = {k: v for k, v in vars(d).items() if k != "message"}
        return cls(**fields, message=d.message.decode("utf-8", errors="replace"))


class DeadLetterPage(BaseModel):
    items: list[DeadLetterView]
    total: int = Field(description="how many match the filter in all")
    limit: int
    offset: int


class RedriveResult(BaseModel):
    outcome: Literal["handled", "refused"] = Field(description="handled: applied now (status redriven); refused: still dead, with the new reason")
    dead_letter: DeadLetterView


class ParkedPartitionView(BaseModel):
    consumer: str
    topic: str
    partition: int
    offset: int = Field(description="the failing record: reading resumes there")
    reason: str
    since: datetime
    retry_at: datetime | None = Field(None, description="when it is retried on its own (a failure that heals by itself: "
                                      "the policy book behind the writer's); null: it waits for an operator's resume")


def parked_partitions(runtime: ServiceRuntime) -> list[ParkedPartitionView]:
    return [ParkedPartitionView(**vars(p)) for c in runtime.live.values() for p in c.parked.all()]


@router.get("/dead-letters", summary="Events this service's consumers refused (operators)")
async def list_dead_letters(
    caller: Caller, request: Request, status: Status | None = None, consumer: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0)] = 0,
) -> DeadLetterPage:
    caller.require(Role.OPERATOR)
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.session_factory() as session:
        found, total = await dead_letters.listing(session, runtime.tables, status=status, consumer=consumer, limit=limit, offset=offset)
    return DeadLetterPage(items=[DeadLetterView.of(d) for d in found], total=total, limit=limit, offset=offset)


@router.get("/dead-letters/{dead_letter_id}", summary="One dead letter with its raw message (operators)")
async def get_dead_letter(dead_letter_id: int, caller: Caller, request: Request) -> DeadLetterView:
    caller.require(Role.OPERATOR)
    return DeadLetterView.of(await _one(request.app.state.runtime, dead_letter_id))


@router.post("/dead-letters/{dead_letter_id}/redrive", summary="Handle a dead letter again, after fixing its cause (operators)")
async def redrive(dead_letter_id: int, caller: Caller, request: Request) -> RedriveResult:
    """The stored message goes to the same consumer's handler, exactly once. Handled: ``redriven``;
    refused again: still ``dead``, counted, with the new reason (both answer 200)."""
    caller.require(Role.OPERATOR)
    runtime: ServiceRuntime = request.app.state.runtime
    found = await _one(runtime, dead_letter_id)
    spec = runtime.consumer_spec(found.consumer)
    if spec is None:
        raise conflict(f"consumer {found.consumer!r} is not one of {runtime.service}'s consumers any more")
    try:
        result = await runtime.event_consumer(spec).redrive(dead_letter_id)
    except AlreadySettled as exc:
        raise conflict(str(exc), dead_letter_status=found.status.value) from exc
    assert result is not None
    return RedriveResult.model_validate({"outcome": result.outcome, "dead_letter": DeadLetterView.of(result.dead_letter)})


@router.post("/dead-letters/{dead_letter_id}/resolve", summary="Settle a dead letter without applying it (operators)")
async def resolve(dead_letter_id: int, caller: Caller, request: Request) -> DeadLetterView:
    """For a fact that is not to be applied at all (e.g. superseded); its claim stays, so it never is."""
    caller.require(Role.OPERATOR)
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.session_factory.begin() as session:
        found = await dead_letters.one(session, runtime.tables, dead_letter_id, for_update=True)
        if found is None:
            raise not_found("dead letter", str(dead_letter_id))
        if found.status is not Status.DEAD:
            raise conflict(f"dead letter {dead_letter_id} is {found.status.value}, not dead", dead_letter_status=found.status.value)
        await dead_letters.settle(session, runtime.tables, dead_letter_id, Status.RESOLVED)
    return DeadLetterView.of(await _one(runtime, dead_letter_id))


@router.get("/consumers/parked", summary="Partitions this instance's consumers stopped reading, and why (operators)")
async def parked(caller: Caller, request: Request) -> list[ParkedPartitionView]:
    caller.require(Role.OPERATOR)
    return parked_partitions(request.app.state.runtime)


@router.post("/consumers/{name}/partitions/{topic}/{partition}/resume", summary="Read a parked partition again (operators)")
async def resume(name: str, topic: str, partition: int, caller: Caller, request: Request) -> ParkedPartitionView:
    """After fixing the cause: reading restarts at the failing record (it is retried; still failing, it parks again).
    Acts on this instance only: the one whose ``/readyz`` names the partition."""
    caller.require(Role.OPERATOR)
    runtime: ServiceRuntime = request.app.state.runtime
    live = runtime.live.get(name)
    resumed = live.resume(topic, partition) if live else None
    if resumed is None:
        raise not_found("parked partition", f"{name} {topic}[{partition}]")
    return ParkedPartitionView(**vars(resumed))


async def _one(runtime: ServiceRuntime, dead_letter_id: int) -> DeadLetter:
    async with runtime.session_factory() as session:
        found = await dead_letters.one(session, runtime.tables, dead_letter_id)
    if found is None:
        raise not_found("dead letter", str(dead_letter_id))
    return found
