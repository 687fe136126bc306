"""day-close watermarks: outbox rows for every partition, watermarks and day closes

Revision ID: 6ae6ddb94aac
Revises: d0f6a2b8e913
"""
from alembic import op

from jicai_events.migration_steps import add_day_close_watermarks, drop_day_close_watermarks

revision = '6ae6ddb94aac'
down_revision = 'd0f6a2b8e913'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_day_close_watermarks(op)


def downgrade() -> None:
    drop_day_close_watermarks(op)
