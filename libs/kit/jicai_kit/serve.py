"""``jicai-serve SERVICE``: apply the service's Alembic history, then run it.

The one way a service starts, in the local run, in Docker and in tests, so
no service ever runs against a schema older than its code.
"""
from __future__ import annotations

import asyncio
import importlib
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from jicai_kit.migrations import upgrade
from jicai_kit.workers_lock import lock_path

SERVICES = ("contracts", "orders", "settlement", "alerts")


def service_dir(service: str) -> Path:
    """``services/<service>/`` — where its alembic.ini and migrations live."""
    package = importlib.import_module(f"jicai_{service}")
    return Path(package.__file__).resolve().parents[1]  # type: ignore[arg-type]


def migrate(service: str) -> None:
    settings = importlib.import_module(f"jicai_{service}.bootstrap").load_settings()
    upgrade(service_dir(service), settings.database_url)


async def rebuild_read_models(service: str) -> int:
    """Empty the service's read models and replay its event store into them, in one transaction."""
    bootstrap = importlib.import_module(f"jicai_{service}.bootstrap")
    repository = importlib.import_module(f"jicai_{service}.adapters.repository")
    tables = importlib.import_module(f"jicai_{service}.adapters.tables")
    settings = bootstrap.load_settings()
    runtime = bootstrap.make_runtime(settings)
    try:
        async with runtime.unit_of_work() as uow:
            replayed: int = await repository.streams.rebuild(uow, tables.READ_MODELS)
        return replayed
    finally:
        await runtime.stop()


def main(
    service: Annotated[str, typer.Argument(help=f"one of {', '.join(SERVICES)}")],
    host: str = "127.0.0.1",
    port: int = 8000,
    migrate_only: Annotated[bool, typer.Option(help="apply migrations and exit")] = False,
    rebuild_read_models_: Annotated[
        bool, typer.Option("--rebuild-read-models", help="replay the event store into the read models and exit (stop the service first)")
    ] = False,
    workers: Annotated[int, typer.Option(
        envvar="JICAI_WEB_CONCURRENCY", min=1, max=64,
        help="API processes on the port (uvicorn workers); one of them runs the relay and consumers (jicai_kit.workers_lock)",
    )] = 1,
) -> None:
    if service not in SERVICES:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    migrate(service)
    if rebuild_read_models_:
        typer.echo(f"{service}: read models rebuilt from {asyncio.run(rebuild_read_models(service))} stored events")
        return
    if migrate_only:
        return
    if workers > 1:
        os.environ["JICAI_WORKERS_LOCK"] = str(lock_path(service, port))  # the processes uvicorn spawns inherit it
    # A spawned process answers uvicorn's health check only once it has imported everything: on a loaded
    # machine that took longer than the default 5 s, and uvicorn killed and respawned it forever.
    uvicorn.run(
        f"jicai_{service}.entrypoints.app:app", host=host, port=port, log_level="info", proxy_headers=True, workers=workers,
        timeout_worker_healthcheck=60,
    )


def cli() -> None:
    typer.run(main)


if __name__ == "__main__":
    cli()
