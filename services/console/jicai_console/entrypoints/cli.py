"""``jicai-console serve``: migrate the console's database, then serve it; ``jicai-console add-user``: a staff account.

The console is no event-sourced service (no Kafka, no registration in ``jicai.services``), so it has its own
start command rather than ``jicai-serve``; its Alembic history is package data (``jicai_console/migrations``).

The password is read from ``--password-file``, ``JICAI_CONSOLE_PASSWORD`` or a prompt, never from the
command line where ``ps`` would show it.
"""
from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from jicai_console.adapters.store import Store
from jicai_console.bootstrap import load_settings
from jicai_console.domain.accounts import AccountError, StaffRole
from jicai_kit.migrations import upgrade

PACKAGE = "jicai_console"

app = typer.Typer(help="Jicai operations console: serve it, manage staff accounts.", no_args_is_help=True)


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8005,
    migrate_only: Annotated[bool, typer.Option(help="apply migrations and exit")] = False,
) -> None:
    """Apply the console's migrations, then serve it (uvicorn)."""
    upgrade(PACKAGE, load_settings().database_url)
    if migrate_only:
        return
    uvicorn.run("jicai_console.entrypoints.app:app", host=host, port=port, log_level="info", proxy_headers=True)


async def _add(database_url: str, username: str, password: str, role: StaffRole, display_name: str, party_id: str | None,
               replace: bool) -> bool:
    store = Store(database_url)
    try:
        return await store.add_user(username, password, role, display_name, party_id, replace=replace)
    finally:
        await store.close()


@app.command("add-user")
def add_user(
    username: str,
    role: Annotated[StaffRole, typer.Option(help="operator | fund | read_only | institution | distributor")],
    party_id: Annotated[str | None, typer.Option(help="the institution or distributor id (institution and distributor users)")] = None,
    display_name: Annotated[str, typer.Option(help="shown in the header and the audit")] = "",
    password_file: Annotated[Path | None, typer.Option(help="read the password from this file (first line)")] = None,
    replace: Annotated[bool, typer.Option(help="set a new password, role and party of an existing account")] = False,
) -> None:
    settings = load_settings()
    upgrade(PACKAGE, settings.database_url)
    if password_file is not None:
        password = password_file.read_text().splitlines()[0] if password_file.read_text() else ""
    else:
        password = os.environ.get("JICAI_CONSOLE_PASSWORD") or typer.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        created = asyncio.run(_add(settings.database_url, username, password, role, display_name, party_id, replace))
    except AccountError as exc:
        typer.echo(f"refused: {exc.field}: {exc.reason}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{username}: {'created' if created else 'exists (unchanged; --replace to change it)'}")


@app.command("version")
def version() -> None:
    typer.echo("jicai-console 0.1.0")


def cli() -> None:
    app()
