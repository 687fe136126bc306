"""``jicai-calendar``: next year's working-day calendar, from the State Council's notice to the running system.

``import NOTICE.txt`` reads the notice as published (国务院办公厅关于N年部分节假日安排的通知) and writes
the calendar file (``cn-<year>.toml``), refusing an inconsistent one; ``load FILE`` sends a calendar file
to the contracts service (``PUT /calendars/{year}``, operator token), which publishes it on the policy topic:
every service folds it without a restart and alerts decides what waited for it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import typer

from jicai_policy import PolicyFileError, parse_calendar_text
from jicai_policy.notice import read_notice, to_toml

app = typer.Typer(help="Turn the State Council's holiday notice into a calendar file and load it on the running system.")


@app.command("import")
def import_notice(
    notice: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the notice's text, as published")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the calendar file here (default: print it)")] = None,
) -> None:
    try:
        calendar = read_notice(notice.read_text(encoding="utf-8"), notice)
    except PolicyFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    text = to_toml(calendar)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"{output}: {calendar.year}, {len(calendar.holidays)} rest days, {len(calendar.makeup_working_days)} make-up working days")


@app.command("load")
def load(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a calendar file (cn-<year>.toml)")],
    url: Annotated[str, typer.Option(envvar="JICAI_CONTRACTS_URL", help="the contracts service (the policy topic's writer)")] = "http://127.0.0.1:8001",
    token: Annotated[str, typer.Option(envvar="JICAI_TOKEN", help="an operator's bearer token")] = "",
) -> None:
    text = file.read_text(encoding="utf-8")
    try:
        year = parse_calendar_text(text, file).year
    except PolicyFileError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    response = httpx.put(f"{url}/calendars/{year}", json={"file": text}, headers={"Authorization": f"Bearer {token}"}, timeout=120)
    typer.echo(f"{response.status_code} {response.text}")
    if response.status_code >= 400:
        raise typer.Exit(1)


def cli() -> None:
    app()
