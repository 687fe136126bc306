"""returns (退货) of accepted deliveries

Revision ID: 7e2d9b1c4a60
Revises: 3c1f0a7d2b94
"""
import sqlalchemy as sa
from alembic import op

revision = '7e2d9b1c4a60'
down_revision = '3c1f0a7d2b94'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('returns',
    sa.Column('return_id', sa.String(length=64), nullable=False),
    sa.Column('acceptance_id', sa.String(length=64), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('pooling_region_code', sa.String(length=6), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('distributor_id', sa.String(length=64), nullable=False),
    sa.Column('returned_quantity', sa.BigInteger(), nullable=False),
    sa.Column('returned_amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('returned_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('return_id')
    )
    op.create_index(op.f('ix_returns_acceptance_id'), 'returns', ['acceptance_id'], unique=False)
    op.create_index(op.f('ix_returns_institution_id'), 'returns', ['institution_id'], unique=False)
    op.add_column('acceptances', sa.Column('returned_quantity', sa.BigInteger(), server_default=sa.text('0'), nullable=False))
    op.create_check_constraint('ck_acceptances_returned_within_accepted', 'acceptances', 'returned_quantity BETWEEN 0 AND accepted_quantity')


def downgrade() -> None:
    op.drop_constraint('ck_acceptances_returned_within_accepted', 'acceptances', type_='check')
    op.drop_column('acceptances', 'returned_quantity')
    op.drop_index(op.f('ix_returns_institution_id'), table_name='returns')
    op.drop_index(op.f('ix_returns_acceptance_id'), table_name='returns')
    op.drop_table('returns')
