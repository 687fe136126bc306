"""``jicai-dead-letters``: list, show and redrive a service's dead letters from a shell.

Runs in-process against the service's database (its ``DATABASE_URL`` and
settings, as ``jicai-serve`` reads them) with the service's own consumers, so
a redrive is the same as ``POST /dead-letters/{id}/redrive``.
"""
from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from jicai_events import dead_letters
from jicai_events.dead_letters import Status
from jicai_events.subscriptions import AlreadySettled
from jicai_kit.runtime import ServiceRuntime
from jicai_kit.serve import installed
from jicai_kit.services import ENTRY_POINT_GROUP

app = typer.Typer(help="See and redrive the events a service's consumers refused.")
Service = Annotated[str, typer.Argument(help=f"an installed service (entry point group {ENTRY_POINT_GROUP})")]


def _runtime(service: str) -> ServiceRuntime:
    bootstrap = installed(service).bootstrap()
    runtime: ServiceRuntime = bootstrap.make_runtime(bootstrap.load_settings())
    return runtime


def _line(d: dead_letters.DeadLetter) -> str:
    where = f"{d.topic}[{d.partition}]@{d.offset}" if d.topic else "-"
    return f"{d.id}\t{d.status.value}\t{d.consumer}\t{d.event_type}\t{d.event_id}\t{where}\tx{d.count}\t{d.last_seen:%Y-%m-%d %H:%M}\t{d.reason}"


@app.command("list")
def list_(
    service: Service,
    status: Annotated[Status | None, typer.Option(help="only this status")] = Status.DEAD,
    consumer: Annotated[str | None, typer.Option(help="only this consumer group")] = None,
    limit: int = 50,
    offset: int = 0,
) -> None:
    async def work() -> None:
        runtime = _runtime(service)
        try:
            async with runtime.session_factory() as session:
                found, total = await dead_letters.listing(session, runtime.tables, status=status, consumer=consumer, limit=limit, offset=offset)
        finally:
            await runtime.stop()
        for d in found:
            typer.echo(_line(d))
        typer.echo(f"{len(found)} of {total}")

    asyncio.run(work())


@app.command("show")
def show(service: Service, dead_letter_id: int) -> None:
    async def work() -> None:
        runtime = _runtime(service)
        try:
            async with runtime.session_factory() as session:
                found = await dead_letters.one(session, runtime.tables, dead_letter_id)
        finally:
            await runtime.stop()
        if found is None:
            raise typer.Exit(_fail(f"no dead letter {dead_letter_id}"))
        typer.echo(_line(found))
        typer.echo(found.message.decode("utf-8", errors="replace"))

    asyncio.run(work())


@app.command("redrive")
def redrive(service: Service, dead_letter_id: int) -> None:
    """Hand the stored message to its consumer's handler again (after fixing the cause)."""

    async def work() -> int:
        runtime = _runtime(service)
        try:
            async with runtime.session_factory() as session:
                found = await dead_letters.one(session, runtime.tables, dead_letter_id)
            spec = runtime.consumer_spec(found.consumer) if found else None
            if found is None or spec is None:
                return _fail(f"no dead letter {dead_letter_id} of a {service} consumer")
            try:
                result = await runtime.event_consumer(spec).redrive(dead_letter_id)
            except AlreadySettled as exc:
                return _fail(str(exc))
        finally:
            await runtime.stop()
        assert result is not None
        typer.echo(f"{result.outcome}: {_line(result.dead_letter)}")
        return 0 if result.outcome == "handled" else 1

    raise typer.Exit(asyncio.run(work()))


def _fail(message: str) -> int:
    typer.echo(message, err=True)
    return 2


def cli() -> None:
    app()
