"""dead letters an operator can list and redrive; processed events pruned by age

Revision ID: 5e8a2c3f9b01
Revises: 99176ce08e32
"""
from alembic import op

from jicai_events.migration_steps import add_dead_letters, drop_dead_letters

revision = '5e8a2c3f9b01'
down_revision = '99176ce08e32'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_dead_letters(op)


def downgrade() -> None:
    drop_dead_letters(op)
