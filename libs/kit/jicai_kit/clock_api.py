"""``/clock`` on every service: business time as this service has it, and closing days over REST.

``GET /clock`` answers, per consumer group, the last business day decided
(for a producer: the last day whose watermark marker it published), the days
closed but still waiting for watermarks and which partitions hold them back,
and the consumer lag. ``POST /clock/days`` (operators) closes business days as
the scheduler does, so nobody needs Kafka tooling to move time.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from jicai_events import watermarks
from jicai_events.catalog import DayClosed
from jicai_events.metrics import CONSUMER_LAG
from jicai_events.topics import CLOCK
from jicai_kit.auth import Caller, Role
from jicai_kit.clock import day_closed_envelope, publish_day_closed
from jicai_kit.problems import Problem
from jicai_kit.runtime import ServiceRuntime
from jicai_kit.validity import BusinessDate, Input

MAX_DAYS_PER_REQUEST = 366

router = APIRouter(tags=["operations"])


class PartitionHoldingBack(BaseModel):
    topic: str
    partition: int
    closed_through: date | None = Field(description="the latest day whose marker was read there (null: none yet)")


class ConsumerClock(BaseModel):
    consumer: str
    decides_business_days: bool = Field(description="true for a consumer that decides by business day (behind the watermarks)")
    last_decided: date | None = Field(description="the last business day decided (a producer: whose marker it published)")
    waiting: list[date] = Field(description="days closed but not yet decided: their facts are not all in")
    waiting_since: datetime | None
    held_back_by: list[PartitionHoldingBack] = Field(description="partitions whose marker has not reached the oldest waiting day")
    lag: int = Field(description="messages on its partitions not yet consumed by this instance")


class DayCloseInProgress(BaseModel):
    business_date: date = Field(description="the day being closed: its decisions are taken chunk by chunk, each committed")
    invoices_due: int = Field(description="invoices whose decision day had come when the close began")
    decided: int = Field(description="of those, decided by the chunks committed so far")
    remaining: int


class ClockView(BaseModel):
    service: str
    last_closed_on: date | None = Field(
        description="the last business day closed here: a deciding service (alerts) has taken every decision up to its close; "
        "another service has published its watermark marker for it"
    )
    day_closed_event_id: str | None = Field(description="the DayClosed event of that day")
    closing: DayCloseInProgress | None = Field(
        default=None, description="a day close under way and how far it has come (alerts closes in chunks); null: none"
    )
    consumers: list[ConsumerClock]


class CloseDays(Input):
    """Close business days ``first`` … ``last`` (Asia/Shanghai), in order, as the scheduler does after midnight.
    Dates are JSON strings ``YYYY-MM-DD`` as in every request body (``0`` is no date: lax parsing read it as 1970-01-01)."""

    first: BusinessDate
    last: BusinessDate | None = Field(default=None, description="close every day up to this one too (default: only ``first``)")

    @field_validator("last")
    @classmethod
    def _range(cls, last: date | None, info: ValidationInfo) -> date | None:
        first = info.data.get("first")  # absent when first itself was refused
        if last is None or first is None:
            return last
        if last < first:
            raise ValueError("is before first")
        if (last - first).days >= MAX_DAYS_PER_REQUEST:
            raise ValueError(f"at most {MAX_DAYS_PER_REQUEST} days per request")
        return last

    def days(self) -> list[date]:
        last = self.last or self.first
        return [self.first + timedelta(days=i) for i in range((last - self.first).days + 1)]


class DaysClosed(BaseModel):
    days: list[date]
    event_ids: list[str] = Field(description="the DayClosed events published (the same day always has the same id)")


@router.get("/clock", summary="Business time: last day decided, days waiting for their facts, consumer lag")
async def clock(request: Request) -> ClockView:
    runtime: ServiceRuntime = request.app.state.runtime
    # Reads alone, in one read-only snapshot (the runtime's read sessions): positions, pending days and the close in
    # progress agree with each other.
    async with runtime.unit_of_work(read_only=True) as uow:
        positions = {p.consumer: p for p in await watermarks.clock_positions(uow.session, runtime.tables)}
        closed = await runtime.last_closed_day(uow) if runtime.last_closed_day is not None else None
        run = await runtime.day_closing(uow) if runtime.day_closing is not None else None
    if runtime.last_closed_day is not None:
        last_closed_on, day_closed_event_id = (closed.business_date, closed.event_id) if closed else (None, None)
    closing = None
    if runtime.day_closing is not None:
        if run is not None:
            closing = DayCloseInProgress(
                business_date=run.business_date, invoices_due=run.invoices_due, decided=run.invoices_decided, remaining=run.remaining,
            )
    else:
        marked = positions.get(runtime.day_close_markers.name)
        last_closed_on = marked.last_decided if marked else None
        day_closed_event_id = day_closed_envelope(last_closed_on).id if last_closed_on else None
    lag = _lag_by_consumer(runtime.service)
    out = []
    for spec in runtime.all_consumers:
        position = positions.get(spec.name)
        decides = spec.name != runtime.day_close_markers.name and any(s.event is DayClosed for s in spec.subscriptions)
        waiting = position.pending if position else []
        reached = {(m.topic, m.partition): m.closed_through for m in position.watermarks} if position else {}
        expected = [(t.qualified(), p) for t in spec.topics if t is not CLOCK for p in range(t.partitions)] if decides else []
        out.append(
            ConsumerClock(
                consumer=spec.name,
                decides_business_days=decides,
                last_decided=position.last_decided if position else None,
                waiting=waiting,
                waiting_since=position.oldest_pending_since if position else None,
                held_back_by=[
                    PartitionHoldingBack(topic=t, partition=p, closed_through=reached.get((t, p)))
                    for t, p in expected
                    if waiting and (reached.get((t, p)) is None or reached[(t, p)] < waiting[0])
                ],
                lag=lag.get(spec.name, 0),
            )
        )
    return ClockView(
        service=runtime.service, last_closed_on=last_closed_on, day_closed_event_id=day_closed_event_id, closing=closing, consumers=out,
    )


@router.post("/clock/days", status_code=202, summary="Close business days (operators)")
async def close_days(body: CloseDays, caller: Caller, request: Request) -> DaysClosed:
    """Publish ``DayClosed`` for each day, as the scheduler does after midnight. Closing a day again changes nothing.

    Decisions for a day follow once every service has passed its facts (see ``GET /clock``)."""
    caller.require(Role.OPERATOR)
    runtime: ServiceRuntime = request.app.state.runtime
    days = body.days()
    try:
        await publish_day_closed(runtime.settings.kafka(), days)
    except KafkaError as exc:
        raise Problem(503, "unavailable", "Kafka unreachable", f"no day was closed: {exc}", headers={"Retry-After": "5"}) from exc
    return DaysClosed(days=days, event_ids=[day_closed_envelope(d).id for d in days])


def _lag_by_consumer(service: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for metric in CONSUMER_LAG.collect():
        for sample in metric.samples:
            if sample.labels.get("service") == service:
                consumer = sample.labels["consumer"]
                out[consumer] = out.get(consumer, 0) + int(sample.value)
    return out

