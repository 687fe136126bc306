"""direct settlement (直接结算) deducted from monthly settlements

Revision ID: b5e2d9f1c3a8
Revises: 8a4f0c6d2e17
"""
import sqlalchemy as sa
from alembic import op

revision = 'b5e2d9f1c3a8'
down_revision = '8a4f0c6d2e17'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('direct_settlement_deductions',
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('distributor_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('payment_id')
    )
    op.create_index(op.f('ix_direct_settlement_deductions_institution_id'), 'direct_settlement_deductions', ['institution_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_direct_settlement_deductions_institution_id'), table_name='direct_settlement_deductions')
    op.drop_table('direct_settlement_deductions')
