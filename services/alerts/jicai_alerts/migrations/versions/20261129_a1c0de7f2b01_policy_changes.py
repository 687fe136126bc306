"""policy changes read from the policy topic, folded over the packaged profiles

Revision ID: a1c0de7f2b01
Revises: 5b0c3e7a91d2
"""
from alembic import op

from jicai_events.migration_steps import add_policy_changes, drop_policy_changes

revision = 'a1c0de7f2b01'
down_revision = '5b0c3e7a91d2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_policy_changes(op)


def downgrade() -> None:
    drop_policy_changes(op)
