"""day-close watermarks: outbox rows for every partition, watermarks and day closes

Revision ID: dc231cdebf8f
Revises: c7d41e9a2f05
"""
from alembic import op

from jicai_events.migration_steps import add_day_close_watermarks, drop_day_close_watermarks

revision = 'dc231cdebf8f'
down_revision = 'c7d41e9a2f05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_day_close_watermarks(op)


def downgrade() -> None:
    drop_day_close_watermarks(op)
