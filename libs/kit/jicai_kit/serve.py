"""``jicai-serve SERVICE``: apply the service's Alembic history, then run it.

The one way a service starts, in the local run, in Docker and in tests, so
no service ever runs against a schema older than its code.
"""
from __future__ import annotations

import gc
import importlib
import os
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from jicai_kit import services

if TYPE_CHECKING:
    from rich.progress import Progress

# The command imports what it runs when it runs (``cli``: with the collector paused); importing this module (a test, a
# bench, the dead-letter tool) imports neither the web server nor the database tools, nor asyncio (refusing an unknown
# service or printing --help needs none of it; serving imports it with uvicorn).


def migrate(service: services.Service) -> None:
    from jicai_kit.migrations import upgrade

    upgrade(service.package, service.bootstrap().load_settings().database_url)


async def rebuild_read_models(service: services.Service, progress: Progress | None = None) -> int:
    """Empty the service's read models and replay its event store into them, in one transaction (``progress``: a bar
    of the events replayed)."""
    bootstrap = service.bootstrap()
    repository = importlib.import_module(f"{service.package}.adapters.repository")
    tables = importlib.import_module(f"{service.package}.adapters.tables")
    settings = bootstrap.load_settings()
    runtime = bootstrap.make_runtime(settings)
    try:
        async with runtime.unit_of_work() as uow:
            advance = None
            if progress is not None:
                task = progress.add_task(f"{service.name}: rebuilding read models", total=await uow.events.count())
                advance = partial(progress.advance, task)
            replayed: int = await repository.streams.rebuild(uow, tables.READ_MODELS, advance)
        return replayed
    finally:
        await runtime.stop()


def installed(name: str) -> services.Service:
    """The registered service ``name``, or the command-line error listing those installed."""
    try:
        return services.service(name)
    except services.UnknownService as exc:
        raise typer.BadParameter(str(exc)) from None


def main(
    service: Annotated[str, typer.Argument(help=f"an installed service (entry point group {services.ENTRY_POINT_GROUP})")],
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
    found = installed(service)
    migrate(found)
    if rebuild_read_models_ or migrate_only:
        gc.enable()  # serving, the app's start-up does (jicai_kit.http)
    if rebuild_read_models_:
        import asyncio

        from rich.console import Console
        from rich.progress import MofNCompleteColumn, Progress

        # The bar goes to stderr (stdout keeps the one-line result), redrawn in a terminal and printed once when done otherwise.
        with Progress(*Progress.get_default_columns(), MofNCompleteColumn(), console=Console(stderr=True)) as progress:
            replayed = asyncio.run(rebuild_read_models(found, progress))
        typer.echo(f"{service}: read models rebuilt from {replayed} stored events")
        return
    if migrate_only:
        return
    import uvicorn

    from jicai_kit.workers_lock import lock_path

    if workers > 1:
        os.environ["JICAI_WORKERS_LOCK"] = str(lock_path(service, port))  # the processes uvicorn spawns inherit them
        os.environ["JICAI_WORKERS_SUPERVISOR"] = str(os.getpid())
        gc.enable()  # this process only watches the workers (each imports the app in a fresh interpreter)
    # A spawned process answers uvicorn's health check only once it has imported everything: on a loaded
    # machine that took longer than the default 5 s, and uvicorn killed and respawned it forever.
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "info", "proxy_headers": True}
    if workers > 1:
        uvicorn.run(found.app, **options, workers=workers, timeout_worker_healthcheck=60)
        return
    from jicai_kit.web_server import serve

    serve(uvicorn.Config(found.app, **options))


def cli() -> None:
    # No collection while the service imports and builds its app (an eighth of a start's CPU: each pass walked objects
    # that all live as long as the process); its start-up freezes them and turns the collector on again.
    gc.disable()
    typer.run(main)


if __name__ == "__main__":
    cli()
