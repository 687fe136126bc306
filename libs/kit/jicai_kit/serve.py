"""``jicai-serve SERVICE``: apply the service's Alembic history, then run it.

The one way a service starts, in the local run, in Docker and in tests, so
no service ever runs against a schema older than its code.
"""
from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from jicai_kit.migrations import upgrade

SERVICES = ("contracts", "orders", "settlement", "alerts")
SERVABLE = (*SERVICES, "console")  # the operations console: its own tables (staff, sessions, audit), no events


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
    service: Annotated[str, typer.Argument(help=f"one of {', '.join(SERVABLE)}")],
    host: str = "127.0.0.1",
    port: int = 8000,
    migrate_only: Annotated[bool, typer.Option(help="apply migrations and exit")] = False,
    rebuild_read_models_: Annotated[
        bool, typer.Option("--rebuild-read-models", help="replay the event store into the read models and exit (stop the service first)")
    ] = False,
) -> None:
    allowed = SERVICES if rebuild_read_models_ else SERVABLE  # the console keeps no events to replay
    if service not in allowed:
        raise typer.BadParameter(f"unknown service {service!r}; one of {', '.join(allowed)}")
    migrate(service)
    if rebuild_read_models_:
        typer.echo(f"{service}: read models rebuilt from {asyncio.run(rebuild_read_models(service))} stored events")
        return
    if migrate_only:
        return
    uvicorn.run(f"jicai_{service}.entrypoints.app:app", host=host, port=port, log_level="info", proxy_headers=True)


def cli() -> None:
    typer.run(main)


if __name__ == "__main__":
    cli()
