"""day-close watermarks: outbox rows for every partition, watermarks and day closes

Revision ID: 349be2a150af
Revises: d41f7a2c9e60
"""
from alembic import op

from jicai_events.migration_steps import add_day_close_watermarks, drop_day_close_watermarks

revision = '349be2a150af'
down_revision = 'd41f7a2c9e60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_day_close_watermarks(op)


def downgrade() -> None:
    drop_day_close_watermarks(op)
