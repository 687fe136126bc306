"""policy changes read from the policy topic, folded over the packaged profiles

Revision ID: a1c0de7f2b04
Revises: 9e4a7c2d5f18
"""
from alembic import op

from jicai_events.migration_steps import add_policy_changes, drop_policy_changes

revision = 'a1c0de7f2b04'
down_revision = '9e4a7c2d5f18'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_policy_changes(op)


def downgrade() -> None:
    drop_policy_changes(op)
