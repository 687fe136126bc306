"""``jicai-clock``: time as events. Publishes ``DayClosed`` on the clock topic.

``close-day DATE`` publishes one day close (operators and tests move time
with it); ``run`` is the production scheduler: after each midnight in
Asia/Shanghai it closes the day that ended. The event id is derived from the
date, so publishing the same day twice is a duplicate every consumer drops.
"""
from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

import typer

from jicai_events.catalog import DayClosed
from jicai_events.envelope import Envelope
from jicai_events.kafka import Kafka, ensure_topics, make_producer
from jicai_events.topics import CLOCK
from jicai_events.types import BUSINESS_TZ

_NAMESPACE = uuid.UUID("8f6c1a52-3c55-4d59-9a51-6a1b8c0d2e77")


def day_closed_envelope(day: date) -> Envelope:
    event = DayClosed(business_date=day)
    return Envelope.wrap(event, time=datetime.now(UTC), event_id=str(uuid.uuid5(_NAMESPACE, f"day-closed:{day.isoformat()}")))


async def publish_day_closed(bootstrap: Kafka, days: list[date], ns: str | None = None) -> None:
    """Publish one DayClosed per day, in order, on the (namespaced) clock topic.

    Sent in batches rather than one round trip per day: the producer keeps one batch per partition in flight, so
    the days still arrive in order."""
    await ensure_topics(bootstrap, ns)
    producer = make_producer(bootstrap, "jicai-clock")
    await producer.start()
    try:
        sent = []
        for day in days:
            envelope = day_closed_envelope(day)
            sent.append(await producer.send(CLOCK.qualified(ns), envelope.to_bytes(), key=envelope.partitionkey.encode()))
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def run_scheduler(bootstrap: Kafka) -> None:
    while True:
        now = datetime.now(BUSINESS_TZ)
        next_midnight = datetime.combine(now.date() + timedelta(days=1), time(0, 0, 5), BUSINESS_TZ)
        await asyncio.sleep((next_midnight - now).total_seconds())
        await publish_day_closed(bootstrap, [next_midnight.date() - timedelta(days=1)])


app = typer.Typer(help="Publish business-day closes (DayClosed) to Kafka.")
Bootstrap = Annotated[str, typer.Option(envvar="KAFKA_BOOTSTRAP_SERVERS")]


@app.command("close-day")
def close_day(
    day: Annotated[datetime, typer.Argument(formats=["%Y-%m-%d"], help="the business day that ended")],
    until: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="close every day up to this one too")] = None,
    bootstrap: Bootstrap = "127.0.0.1:9092",
) -> None:
    first = day.date()
    last = until.date() if until else first
    if last < first:
        raise typer.BadParameter("--until is before DAY")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    asyncio.run(publish_day_closed(_connection(bootstrap), days))
    typer.echo(f"closed {len(days)} day(s): {first} .. {last}")


@app.command("run")
def run(bootstrap: Bootstrap = "127.0.0.1:9092") -> None:
    asyncio.run(run_scheduler(_connection(bootstrap)))


def _connection(bootstrap: str) -> Kafka:
    """The brokers given, with the credentials of the environment (KAFKA_USERNAME, KAFKA_PASSWORD_FILE, ...)."""
    from jicai_kit.settings import KafkaSettings

    return KafkaSettings(kafka_bootstrap_servers=bootstrap).kafka()


def cli() -> None:
    app()
