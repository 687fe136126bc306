"""dead letters an operator can list and redrive; processed events pruned by age

Revision ID: 4d7f1b2e8a90
Revises: dc231cdebf8f
"""
from alembic import op

from jicai_events.migration_steps import add_dead_letters, drop_dead_letters

revision = '4d7f1b2e8a90'
down_revision = 'dc231cdebf8f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letters(op)


def downgrade() -> None:
    drop_dead_letters(op)
