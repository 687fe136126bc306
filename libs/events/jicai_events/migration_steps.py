"""Alembic steps for the shared event tables, called by each service's own history.

Each function is a frozen step: once released it never changes (a later change
is a new function), so every service's history stays reproducible.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa


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
