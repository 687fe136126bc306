"""PostgreSQL as production runs it: SCRAM passwords, one role per service owning only its database.

A cluster of its own, given the production roles by the very script the
compose file runs (deploy/docker/postgres-init.sh) and then the production
pg_hba.conf. Each service's role migrates its own database and is refused
everywhere else.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from jicai_devstack.postgres import PostgresInstance, ensure_postgres_installed, start_postgres, stop_postgres
from jicai_kit.migrations import upgrade
from tests.support import infra

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("contracts", "orders", "settlement", "alerts", "console")  # postgres-init.sh: the console has its role too


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[PostgresInstance, dict[str, str]]]:
    """The cluster and each service's password, with the production roles and client authentication."""
    root = Path(tempfile.mkdtemp(prefix="jicai-pg-roles-", dir="/tmp"))
    root.chmod(0o755)  # the PostgreSQL OS user must traverse it
    try:
        pg = start_postgres(root / "postgres", fsync_off=True)
        passwords = {s: secrets.token_urlsafe(24) for s in SERVICES}
        (root / "secrets").mkdir()
        for service, password in passwords.items():
            (root / "secrets" / f"postgres-{service}").write_text(password + "\n")
        env = {**os.environ, "PATH": f"{ensure_postgres_installed()}:{os.environ['PATH']}", "SECRETS_DIR": str(root / "secrets"),
               "PGHOST": pg.host, "PGPORT": str(pg.port), "PGUSER": pg.user}
        subprocess.run(["sh", str(REPO / "deploy/docker/postgres-init.sh")], env=env, check=True, capture_output=True)
        with psycopg.connect(pg.conninfo(), autocommit=True) as admin:
            hashes = admin.execute("SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY(%s)", [list(SERVICES)]).fetchall()
            assert sorted(r for r, _ in hashes) == sorted(SERVICES)
            assert all(h.startswith("SCRAM-SHA-256$") for _, h in hashes), "passwords are stored as SCRAM verifiers"
            production_hba = (REPO / "deploy/docker/pg_hba.conf").read_text()
            hba_file = admin.execute("SHOW hba_file").fetchone()[0]  # type: ignore[index]
            superuser_password = secrets.token_urlsafe(24)
            admin.execute(sql.SQL("ALTER ROLE CURRENT_USER PASSWORD {}").format(sql.Literal(superuser_password)))
        Path(hba_file).write_text(production_hba)
        with psycopg.connect(pg.conninfo(), password=superuser_password, autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
        yield pg, passwords
    finally:
        stop_postgres(root / "postgres")
        shutil.rmtree(root, ignore_errors=True)


def conninfo(pg: PostgresInstance, role: str, password: str, db: str) -> str:
    return f"postgresql://{role}:{password}@{pg.host}:{pg.port}/{db}"


def test_each_service_migrates_its_own_database_as_its_owner(cluster: tuple[PostgresInstance, dict[str, str]]) -> None:
    pg, passwords = cluster
    for service in ("orders", "settlement"):
        upgrade(infra.package(service), f"postgresql+psycopg://{service}:{passwords[service]}@{pg.host}:{pg.port}/{service}")
        with psycopg.connect(conninfo(pg, service, passwords[service], service)) as conn:
            owners = conn.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall()
            assert owners == [(service,)], "every table belongs to the service's own role"
            flags = conn.execute("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user").fetchone()
            assert flags == (False, False, False)


def test_a_service_cannot_reach_another_services_database(cluster: tuple[PostgresInstance, dict[str, str]]) -> None:
    pg, passwords = cluster
    with pytest.raises(psycopg.OperationalError, match='no pg_hba.conf entry for host "127.0.0.1", user "orders", database "settlement"'):
        psycopg.connect(conninfo(pg, "orders", passwords["orders"], "settlement"))
    with pytest.raises(psycopg.OperationalError, match='password authentication failed for user "orders"'):
        psycopg.connect(conninfo(pg, "orders", passwords["settlement"], "orders"))
    with pytest.raises(psycopg.OperationalError, match="password authentication failed|no password supplied"):
        psycopg.connect(f"postgresql://orders@{pg.host}:{pg.port}/orders")  # no trust: a password is always asked for


def test_even_past_client_authentication_a_role_may_not_connect_to_or_write_anothers_database(
    cluster: tuple[PostgresInstance, dict[str, str]],
) -> None:
    """Defence in depth: were pg_hba.conf ever opened up, PUBLIC has no CONNECT on a service's database."""
    pg, passwords = cluster
    with psycopg.connect(conninfo(pg, "orders", passwords["orders"], "orders"), autocommit=True) as conn:
        granted = conn.execute("SELECT has_database_privilege('orders', 'settlement', 'CONNECT'), "
                               "has_database_privilege('orders', 'orders', 'CONNECT')").fetchone()
        assert granted == (False, True)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE DATABASE orders_copy")
