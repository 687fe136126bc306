"""orders (订单) and acceptances linked to them

Revision ID: 3c1f0a7d2b94
Revises: af50e85d1dca
"""
import sqlalchemy as sa
from alembic import op

revision = '3c1f0a7d2b94'
down_revision = 'af50e85d1dca'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orders',
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('distributor_id', sa.String(length=64), nullable=False),
    sa.Column('pooling_region_code', sa.String(length=6), nullable=False),
    sa.Column('placed_on', sa.Date(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('stage', sa.String(length=12), nullable=False, comment='placed | confirmed | shipped | cancelled (deliveries aside)'),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('shipped_on', sa.Date(), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('order_id')
    )
    op.create_index(op.f('ix_orders_institution_id'), 'orders', ['institution_id'], unique=False)
    op.create_index(op.f('ix_orders_distributor_id'), 'orders', ['distributor_id'], unique=False)
    op.create_table('order_lines',
    sa.Column('order_id', sa.String(length=64), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('accepted_quantity', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('rejected_quantity', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.PrimaryKeyConstraint('order_id', 'line_no', name='pk_order_lines'),
    sa.UniqueConstraint('order_id', 'contract_id', name='uq_order_lines_order_contract')
    )
    op.add_column('acceptances', sa.Column('order_id', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_acceptances_order_id'), 'acceptances', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_acceptances_order_id'), table_name='acceptances')
    op.drop_column('acceptances', 'order_id')
    op.drop_table('order_lines')
    op.drop_index(op.f('ix_orders_distributor_id'), table_name='orders')
    op.drop_index(op.f('ix_orders_institution_id'), table_name='orders')
    op.drop_table('orders')
