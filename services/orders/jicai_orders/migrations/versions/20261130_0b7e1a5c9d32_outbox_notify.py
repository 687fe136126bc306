"""the outbox notifies the relay of rows a commit wrote

Revision ID: 0b7e1a5c9d32
Revises: a1c0de7f2b03
"""
from alembic import op

from jicai_events.migration_steps import add_outbox_notify, drop_outbox_notify

revision = '0b7e1a5c9d32'
down_revision = 'a1c0de7f2b03'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_notify(op)


def downgrade() -> None:
    drop_outbox_notify(op)
