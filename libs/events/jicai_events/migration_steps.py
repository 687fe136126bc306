"""Alembic steps for the shared event tables, called by each service's own history.

Each function is a frozen step: once released it never changes (a later change
is a new function), so every service's history stays reproducible.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def add_day_close_watermarks(op: Any) -> None:
    """2026-11-29: outbox rows for every partition; day-close watermarks and requests."""
    op.add_column("outbox", sa.Column("all_partitions", sa.Boolean(), server_default=sa.text("false"), nullable=False))
    op.create_table(
        "clock_watermarks",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("closed_through", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("consumer", "topic", "partition", name="pk_clock_watermarks"),
    )
    op.create_table(
        "day_closes",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("envelope", sa.LargeBinary(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("consumer", "business_date", name="pk_day_closes"),
    )


def drop_day_close_watermarks(op: Any) -> None:
    op.drop_table("day_closes")
    op.drop_table("clock_watermarks")
    op.drop_column("outbox", "all_partitions")


def add_dead_letters(op: Any) -> None:
    """2026-11-29: dead letters an operator can list and redrive; claims pruned by age."""
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=True),
        sa.Column("partition", sa.Integer(), nullable=True),
        sa.Column("offset", sa.BigInteger(), nullable=True),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("count", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'dead'"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("consumer", "event_id", name="uq_dead_letters_consumer_event"),
    )
    op.create_index("ix_dead_letters_status_consumer", "dead_letters", ["status", "consumer", "id"])
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])
    # What was dead-lettered before this table existed: the raw message is in the dead-letter topic only.
    op.execute(
        "INSERT INTO dead_letters (consumer, event_id, event_type, message, reason, first_seen, last_seen) "
        "SELECT consumer, event_id, event_type, ''::bytea, '[raw message only in the dead-letter topic] ' || coalesce(reason, ''), "
        "processed_at, processed_at "
        "FROM processed_events WHERE outcome = 'dead_lettered'"
    )


def drop_dead_letters(op: Any) -> None:
    op.drop_index("ix_processed_events_processed_at", table_name="processed_events")
    op.drop_table("dead_letters")


def add_policy_changes(op: Any) -> None:
    """2026-11-29: the policy changes a service has read from the policy topic, folded over its packaged profiles."""
    op.create_table(
        "policy_changes",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=200), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("position"),
        sa.UniqueConstraint("event_id"),
    )


def drop_policy_changes(op: Any) -> None:
    op.drop_table("policy_changes")


def add_outbox_notify(op: Any) -> None:
    """2026-11-30: a statement that writes outbox rows notifies the relay when its transaction commits (whichever process
    wrote them), instead of the relay polling for them. Once per statement: a thousand-row insert is one notification,
    and PostgreSQL folds identical notifications of one transaction into one."""
    op.execute(
        "CREATE FUNCTION outbox_written() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN PERFORM pg_notify('jicai_outbox', ''); RETURN NULL; END $$"
    )
    op.execute("CREATE TRIGGER outbox_written AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_written()")


def drop_outbox_notify(op: Any) -> None:
    op.execute("DROP TRIGGER outbox_written ON outbox")
    op.execute("DROP FUNCTION outbox_written()")
