"""Production is not ready on a database that may lose what it acknowledged.

With ``fsync=off`` or ``synchronous_commit=off`` PostgreSQL answers a commit
it can still lose in a crash: a payment the hospital was told is recorded, or
an event the outbox relay already published, would be gone. Test clusters run
without fsync on purpose; production must not, so ``/readyz`` refuses it.
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

# setting → the values that acknowledge a commit before it is safe. synchronous_commit's
# other values (on, local, remote_write, remote_apply) all flush locally first.
UNSAFE_VALUES: Mapping[str, frozenset[str]] = {
    "fsync": frozenset({"off"}),
    "synchronous_commit": frozenset({"off"}),
}


def unsafe_settings(settings: Mapping[str, str]) -> list[str]:
    """``name=value`` of each setting that can lose committed writes, e.g. ``["synchronous_commit=off"]``."""
    return [f"{name}={value}" for name, value in sorted(settings.items()) if value in UNSAFE_VALUES.get(name, ())]


async def unsafe_database_settings(engine: AsyncEngine) -> list[str]:
    """The unsafe settings of the service's own sessions (per-database and per-role settings included)."""
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"),
                                  {"names": list(UNSAFE_VALUES)})
        return unsafe_settings({str(name): str(setting) for name, setting in rows})
