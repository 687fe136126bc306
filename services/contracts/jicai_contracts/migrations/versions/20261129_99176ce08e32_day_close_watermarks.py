"""day-close watermarks: outbox rows for every partition, watermarks and day closes

Revision ID: 99176ce08e32
Revises: a7c3e91f0d24
"""
from alembic import op

from jicai_events.migration_steps import add_day_close_watermarks, drop_day_close_watermarks

revision = '99176ce08e32'
down_revision = 'a7c3e91f0d24'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_day_close_watermarks(op)


def downgrade() -> None:
    drop_day_close_watermarks(op)
