"""The operations console as a fifth process (``jicai-console serve``, port 8005) and its demo accounts.

It reads the four services over HTTP only; its own database holds staff accounts, sessions and the audit.
Demo accounts are made with ``jicai-console add-users``, the command an installation uses.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

from . import services as procs

PORT = 8005
MARKER = "jicai-console"
DEMO_PASSWORD = "jicai-demo-2026"
DEMO_ACCOUNTS = (  # username, role, party, display name
    ("ops", "operator", None, "运营 Operator"),
    ("fund", "fund", None, "医保基金 Fund"),
    ("viewer", "read_only", None, "只读 Viewer"),
    ("h001", "institution", "H001", "贵阳市第一人民医院"),
    ("h002", "institution", "H002", "遵义医科大学附属医院"),
    ("d001", "distributor", "D001", "贵州某医药物流有限公司"),
)


def session_secret(run_dir: Path) -> str:
    """The key signing the console's session cookies: made once, kept private in the run dir."""
    from .stack import private_secret

    return private_secret(run_dir, "console-session-secret")


def console_env(run_dir: Path, database_url: str, signing_key_file: Path, service_urls: dict[str, str],
                extra: dict[str, str] | None = None) -> dict[str, str]:
    """The console's environment: its database, the key it signs the services' tokens with, their URLs."""
    env = dict(os.environ)
    env.update({
        "JICAI_CONSOLE_DATABASE_URL": database_url,
        "JICAI_CONSOLE_SIGNING_KEY_FILE": str(signing_key_file),
        "JICAI_CONSOLE_SESSION_SECRET": session_secret(run_dir),
        "JICAI_ENV": env.get("JICAI_ENV", "development"),
        "PYTHONUNBUFFERED": "1",
        **{f"JICAI_{name.upper()}_URL": url for name, url in service_urls.items()},
        **(extra or {}),
    })
    return env


def command() -> str:
    """The ``jicai-console`` script of this environment."""
    return str(Path(sys.executable).with_name("jicai-console"))


def start_console(services_dir: Path, env: dict[str, str], port: int = PORT) -> procs.ServiceProcess:
    """Start the console (``jicai-console serve``: migrations first, as every service; forked from the tests' launcher when
    one is on) and wait until it answers ``/readyz``."""
    process = procs.start_service(services_dir, "console", port, env, [command(), "serve", "--port", str(port)], MARKER)
    procs.wait_ready(process, services_dir)
    return process


def stop_console(services_dir: Path, *, kill: bool = False) -> bool:
    return procs.stop_service(services_dir, "console", kill=kill, marker=MARKER)


def add_demo_accounts(env: dict[str, str]) -> list[str]:
    """The demo's staff accounts (kept as they are when they exist), in one ``jicai-console add-users`` (a command per
    account imported the console and hashed a spare password each time: 2 s of CPU apiece); forked from the tests'
    launcher when one is on (``services.run_program``)."""
    accounts = [{"username": username, "role": role, "party_id": party, "display_name": name} for username, role, party, name in DEMO_ACCOUNTS]
    with tempfile.NamedTemporaryFile("w", suffix=".json") as listed:
        json.dump(accounts, listed)
        listed.flush()
        added = procs.run_program([command(), "add-users", listed.name], {**env, "JICAI_CONSOLE_PASSWORD": DEMO_PASSWORD}, Path.cwd())
    added.check_returncode()
    return [username for username, _, _, _ in DEMO_ACCOUNTS]
