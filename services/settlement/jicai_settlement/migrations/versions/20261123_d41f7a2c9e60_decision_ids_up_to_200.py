"""decision ids up to 200 characters (withhold-{invoice id} of a 64-character invoice id)

Revision ID: d41f7a2c9e60
Revises: b5e2d9f1c3a8
"""
import sqlalchemy as sa
from alembic import op

revision = 'd41f7a2c9e60'
down_revision = 'b5e2d9f1c3a8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('withholds', 'decision_id', type_=sa.String(length=200), existing_type=sa.String(length=64), existing_nullable=False)
    op.alter_column('withholds', 'release_decision_id', type_=sa.String(length=200), existing_type=sa.String(length=64))
    op.alter_column('monthly_settlements', 'release_decision_id', type_=sa.String(length=200), existing_type=sa.String(length=64))


def downgrade() -> None:
    op.alter_column('monthly_settlements', 'release_decision_id', type_=sa.String(length=64), existing_type=sa.String(length=200))
    op.alter_column('withholds', 'release_decision_id', type_=sa.String(length=64), existing_type=sa.String(length=200))
    op.alter_column('withholds', 'decision_id', type_=sa.String(length=64), existing_type=sa.String(length=200), existing_nullable=False)
