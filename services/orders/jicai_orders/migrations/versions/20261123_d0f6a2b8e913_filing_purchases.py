"""filing purchases (备案采购)

Revision ID: d0f6a2b8e913
Revises: b5a8e3f01c27
"""
import sqlalchemy as sa
from alembic import op

revision = 'd0f6a2b8e913'
down_revision = 'b5a8e3f01c27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('filing_purchases',
    sa.Column('filing_id', sa.String(length=64), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('pooling_region_code', sa.String(length=6), nullable=False),
    sa.Column('generic_name', sa.String(length=200), nullable=False),
    sa.Column('specification', sa.String(length=200), nullable=False),
    sa.Column('manufacturer_name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('purchased_on', sa.Date(), nullable=False),
    sa.Column('filed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('filing_id')
    )
    op.create_index('ix_filing_purchases_institution_purchased_on', 'filing_purchases', ['institution_id', 'purchased_on'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_filing_purchases_institution_purchased_on', table_name='filing_purchases')
    op.drop_table('filing_purchases')
