"""dead letters an operator can list and redrive; processed events pruned by age

Revision ID: 6f9b3d4a0c12
Revises: 6ae6ddb94aac
"""
from alembic import op

from jicai_events.migration_steps import add_dead_letters, drop_dead_letters

revision = '6f9b3d4a0c12'
down_revision = '6ae6ddb94aac'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letters(op)


def downgrade() -> None:
    drop_dead_letters(op)
