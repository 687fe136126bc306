"""dead letters an operator can list and redrive; processed events pruned by age

Revision ID: 7a0c4e5b1d23
Revises: 349be2a150af
"""
from alembic import op

from jicai_events.migration_steps import add_dead_letters, drop_dead_letters

revision = '7a0c4e5b1d23'
down_revision = '349be2a150af'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letters(op)


def downgrade() -> None:
    drop_dead_letters(op)
