"""The console's own tables: staff accounts, server-side sessions and the audit of every action.

Nothing of the four services is stored here: their records are read through their public APIs.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Identity, Index, MetaData, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

staff_users = Table(
    "staff_users",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False, comment="argon2id, PHC string"),
    Column("role", String(16), nullable=False, comment="operator | fund | read_only | institution | distributor"),
    Column("party_id", String(64), nullable=True, comment="the institution or distributor an institution/distributor user acts for"),
    Column("display_name", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="false"),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True, comment="sha256 of the session id the signed cookie carries"),
    Column("username", String(64), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_sessions_expires_at", sessions.c.expires_at)

audit = Table(
    "audit",
    metadata,
    Column("audit_id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("request", JSONB, nullable=False, comment="what was sent to the service"),
    Column("status", BigInteger, nullable=False, comment="the service's HTTP status"),
    Column("response", JSONB, nullable=True),
)
Index("ix_audit_at", audit.c.at)
