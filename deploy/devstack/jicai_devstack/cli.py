"""``python -m jicai_devstack``: the dev stack CLI.

``infra`` manages only the infrastructure (Kafka + PostgreSQL) in
``<repo>/.run/``; service orchestration is meant to live in further
sub-apps added next to it (``app.add_typer(...)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from jicai_kit.services import registered

from . import _proc, kafka, postgres

app = typer.Typer(help="Jicai dev stack: real Kafka + PostgreSQL, no Docker.", no_args_is_help=True)
infra = typer.Typer(help="Start/stop Kafka + PostgreSQL only.", no_args_is_help=True)
app.add_typer(infra, name="infra")

RunDir = Annotated[Path, typer.Option(help="Where data, logs and pid files live.")]
_DEFAULT_RUN = _proc.REPO_ROOT / ".run"


@infra.command()
def up(
    run_dir: RunDir = _DEFAULT_RUN,
    databases: Annotated[str, typer.Option(help="Comma-separated databases to create (default: one per installed service).")] = "",
    fsync_off: Annotated[bool, typer.Option(help="Faster: no fsync. Survives killed processes, not a crashed machine (throw-away data).")] = False,
    env: Annotated[bool, typer.Option(help="Print only `export` lines, for eval.")] = False,
) -> None:
    """Start (or reuse) Kafka and PostgreSQL; print their addresses. Safe to run twice.

    Honours KAFKA_BOOTSTRAP_SERVERS / JICAI_DATABASE_URL_BASE: if set, that
    server is used and none is started.
    """
    k = kafka.ensure_kafka(run_dir / "kafka")
    pg = postgres.ensure_postgres(run_dir / "postgres", fsync_off=fsync_off)
    names = [d.strip() for d in databases.split(",") if d.strip()] or list(registered())
    urls = postgres.ensure_databases(pg, names)
    lines = [f"export KAFKA_BOOTSTRAP_SERVERS={k.bootstrap}",
             f"export JICAI_DATABASE_URL_BASE={pg.url_base}"]
    if env:
        typer.echo("\n".join(lines))
        return
    typer.echo(f"kafka     {k.bootstrap}" + (f"  (pid {k.pid}, {k.run_dir})" if k.run_dir else "  (external)"))
    typer.echo(f"postgres  {pg.url_base}" + (f"  (pid {pg.pid}, {pg.run_dir})" if pg.run_dir else "  (external)"))
    for name, url in urls.items():
        typer.echo(f"  {name:<12} {url}")
    typer.echo("\n".join(["", "# for your shell:", *lines]))


@infra.command()
def down(run_dir: RunDir = _DEFAULT_RUN) -> None:
    """Stop the local Kafka (clean shutdown) and PostgreSQL (fast). Data is kept."""
    typer.echo(f"kafka     {'stopped' if kafka.stop_kafka(run_dir / 'kafka') else 'was not running'}")
    typer.echo(f"postgres  {'stopped' if postgres.stop_postgres(run_dir / 'postgres') else 'was not running'}")


@infra.command()
def status(run_dir: RunDir = _DEFAULT_RUN) -> None:
    """Show whether the local Kafka and PostgreSQL run; exit code 1 if either does not."""
    k = kafka.kafka_status(run_dir / "kafka")
    pg = postgres.postgres_status(run_dir / "postgres")
    typer.echo(f"kafka     {f'running  {k.bootstrap}  pid {k.pid}' if k else 'stopped'}")
    typer.echo(f"postgres  {f'running  {pg.url_base}  pid {pg.pid}' if pg else 'stopped'}")
    if not (k and pg):
        raise typer.Exit(1)


@app.command("up")
def system_up(
    run_dir: RunDir = _DEFAULT_RUN,
    demo: Annotated[bool, typer.Option(help="Record the demo data (Guizhou hospitals: one withheld, one suspended under R3; one per other profile).")] = False,
) -> None:
    """Start Kafka, PostgreSQL, the four services and the day-close scheduler. Safe to run twice."""
    from jicai_kit.auth import Role

    from . import demo as demo_data
    from . import stack
    from .services import SERVICES, party_token

    s = stack.up(run_dir)
    if demo:
        typer.echo("recording demo data through the REST APIs ...")
        demo_data.seed({n: p.url for n, p in s.processes.items()}, s.signing_key, s.bootstrap)
    ops_token = party_token(s.signing_key, "OPS", Role.OPERATOR)
    typer.echo("")
    typer.echo("Jicai is up. Ready after (s): " + ", ".join(f"{k} {v:.1f}" for k, v in s.timings.items()))
    typer.echo(f"  kafka      {s.bootstrap}")
    for name in SERVICES:
        typer.echo(f"  {name:<10} {s.processes[name].url}/docs    metrics {s.processes[name].url}/metrics")
    typer.echo(f"  logs       {run_dir / 'services' / 'logs'}, {run_dir / 'kafka' / 'logs'}, {run_dir / 'postgres' / 'logs'}")
    token_file = run_dir / "operator-token"
    token_file.write_text(ops_token + "\n")
    token_file.chmod(0o600)
    typer.echo(f"\nOperator token for 12 h (also in {token_file}); any party's: "
               f"jicai-token PARTY ROLE --audience orders --key {run_dir / 'auth' / 'signing-key.json'}")
    if demo:
        from . import demo as demo_data

        alerts, settlement = s.processes["alerts"].url, s.processes["settlement"].url
        typer.echo("\nWithheld institution H001 (暂缓拨付):")
        typer.echo(f'  curl -H "Authorization: Bearer $(cat {token_file})" {settlement}/institutions/H001/settlement-status')
        typer.echo(f'  curl -H "Authorization: Bearer $(cat {token_file})" {alerts}/institutions/H001/alerts')
        typer.echo(f"  curl -s {settlement}/metrics | grep jicai_withheld_institutions")
        typer.echo(f"Suspended institution {demo_data.SUSPENDED} (暂停医保月结算, R3 live in {demo_data.R3_REGION} from the policy topic):")
        typer.echo(f'  curl -H "Authorization: Bearer $(cat {token_file})" {alerts}/institutions/{demo_data.SUSPENDED}/volume-completion')
    if s.console is not None and s.console_env is not None:
        from . import console

        typer.echo(f"\nOperations console (运营管理台): {s.console.url}/  (English: {s.console.url}/?lang=en)")
        if demo:
            console.add_demo_accounts(s.console_env)
            accounts = ", ".join(f"{u} ({r}{' ' + p if p else ''})" for u, r, p, _ in console.DEMO_ACCOUNTS)
            typer.echo(f"  demo sign-in: ops / {console.DEMO_PASSWORD}  (all demo accounts have this password: {accounts})")
        else:
            typer.echo("  create a staff account: .venv/bin/jicai-console add-user NAME --role operator (with JICAI_CONSOLE_DATABASE_URL)")
    typer.echo("\nStop with: make down")


@app.command("down")
def system_down(run_dir: RunDir = _DEFAULT_RUN) -> None:
    """Stop everything ``up`` started. Data stays in the run dir."""
    from . import stack

    stopped = stack.down(run_dir)
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command("status")
def system_status(run_dir: RunDir = _DEFAULT_RUN) -> None:
    """What runs, and whether each service is ready."""
    import httpx

    from . import _proc as proc
    from .services import DEFAULT_PORTS, SERVICES

    status(run_dir)  # infrastructure, exits 1 if stopped
    for name in (*SERVICES, "console"):
        alive = proc.pid_alive(proc.read_pid(run_dir / "services" / f"{name}.pid"), "jicai-serve" if name in SERVICES else "jicai-console")
        ready = "not running"
        if alive:
            try:
                answer = httpx.get(f"http://127.0.0.1:{DEFAULT_PORTS.get(name, 8005)}/readyz", timeout=5)
                ready = answer.json()["status"] if name in SERVICES else answer.text
            except httpx.HTTPError as exc:
                ready = f"unreachable ({exc})"
        typer.echo(f"{name:<10}{ready}")
