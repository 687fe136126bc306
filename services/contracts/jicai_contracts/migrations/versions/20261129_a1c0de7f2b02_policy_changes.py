"""policy changes read from the policy topic, folded over the packaged profiles

Revision ID: a1c0de7f2b02
Revises: 5e8a2c3f9b01
"""
from alembic import op

from jicai_events.migration_steps import add_policy_changes, drop_policy_changes

revision = 'a1c0de7f2b02'
down_revision = '5e8a2c3f9b01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_policy_changes(op)


def downgrade() -> None:
    drop_policy_changes(op)
