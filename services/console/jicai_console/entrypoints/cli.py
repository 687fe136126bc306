"""``jicai-console serve``: migrate the console's database, then serve it; ``jicai-console add-user``: a staff account (``add-users``: several, in one command).

The console is no event-sourced service (no Kafka, no registration in ``jicai.services``), so it has its own
start command rather than ``jicai-serve``; its Alembic history is package data (``jicai_console/migrations``).

The password is read from ``--password-file``, ``JICAI_CONSOLE_PASSWORD`` or a prompt, never from the
command line where ``ps`` would show it.
"""
from __future__ import annotations

import asyncio
import gc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import TypeAdapter, ValidationError

from jicai_console.adapters.store import Store
from jicai_console.bootstrap import load_settings
from jicai_console.domain.accounts import AccountError, StaffRole, check_new_account
from jicai_console.settings import Settings
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
    gc.enable()  # a server runs for long
    if migrate_only:
        return
    uvicorn.run("jicai_console.entrypoints.app:app", host=host, port=port, log_level="info", proxy_headers=True)


@dataclass(frozen=True)
class NewAccount:
    username: str
    role: StaffRole
    display_name: str = ""
    party_id: str | None = None


async def _add(settings: Settings, new: list[NewAccount], password: str, replace: bool) -> list[bool]:
    """Every account checked before any is written (a refusal changes nothing), then each in its own transaction."""
    for account in new:
        check_new_account(account.username, password, account.role, account.party_id)
    store = Store(settings.database_url, settings.passwords())
    try:
        return [await store.add_user(a.username, password, a.role, a.display_name, a.party_id, replace=replace) for a in new]
    finally:
        await store.close()


def _password(password_file: Path | None) -> str:
    if password_file is not None:
        return password_file.read_text().splitlines()[0] if password_file.read_text() else ""
    return os.environ.get("JICAI_CONSOLE_PASSWORD") or typer.prompt("password", hide_input=True, confirmation_prompt=True)


def _add_accounts(new: list[NewAccount], password_file: Path | None, replace: bool) -> None:
    settings = load_settings()
    upgrade(PACKAGE, settings.database_url)
    password = _password(password_file)
    try:
        created = asyncio.run(_add(settings, new, password, replace))
    except AccountError as exc:
        typer.echo(f"refused: {exc.field}: {exc.reason}", err=True)
        raise typer.Exit(2) from exc
    for account, made in zip(new, created, strict=True):
        typer.echo(f"{account.username}: {'created' if made else 'exists (unchanged; --replace to change it)'}")


@app.command("add-user")
def add_user(
    username: str,
    role: Annotated[StaffRole, typer.Option(help="operator | fund | read_only | institution | distributor")],
    party_id: Annotated[str | None, typer.Option(help="the institution or distributor id (institution and distributor users)")] = None,
    display_name: Annotated[str, typer.Option(help="shown in the header and the audit")] = "",
    password_file: Annotated[Path | None, typer.Option(help="read the password from this file (first line)")] = None,
    replace: Annotated[bool, typer.Option(help="set a new password, role and party of an existing account")] = False,
) -> None:
    _add_accounts([NewAccount(username, role, display_name, party_id)], password_file, replace)


@app.command("add-users")
def add_users(
    accounts_file: Annotated[Path, typer.Argument(help='JSON: a list of {"username", "role", "party_id", "display_name"}')],
    password_file: Annotated[Path | None, typer.Option(help="read the password of every account from this file (first line)")] = None,
    replace: Annotated[bool, typer.Option(help="set a new password, role and party of existing accounts")] = False,
) -> None:
    """Several accounts with one password (a demo, a first installation): add-user for each, in one command."""
    try:
        new = TypeAdapter(list[NewAccount]).validate_json(accounts_file.read_bytes())
    except ValidationError as exc:
        typer.echo(f"refused: {accounts_file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    _add_accounts(new, password_file, replace)


@app.command("version")
def version() -> None:
    typer.echo("jicai-console 0.1.0")


def cli() -> None:
    gc.disable()  # no collection while the command imports (an eighth of its CPU); ``serve`` turns it on again
    app()
