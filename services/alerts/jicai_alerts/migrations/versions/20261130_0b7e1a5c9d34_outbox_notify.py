"""the outbox notifies the relay of rows a commit wrote

Revision ID: 0b7e1a5c9d34
Revises: 3b9e5d1c7a20
"""
from alembic import op

from jicai_events.migration_steps import add_outbox_notify, drop_outbox_notify

revision = '0b7e1a5c9d34'
down_revision = '3b9e5d1c7a20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_notify(op)


def downgrade() -> None:
    drop_outbox_notify(op)
