"""batches, yearly agreements, counted acceptances, manufacturer reports

Revision ID: 5d2e8a41c7b3
Revises: c129a96887a2
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '5d2e8a41c7b3'
down_revision = 'c129a96887a2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # quantities go up to 10**12 (jicai_events.types.Quantity): an int4 column would fail on large ones
    op.alter_column('contracts', 'agreed_quantity', type_=sa.BigInteger(), existing_nullable=False)
    op.create_table('batches',
    sa.Column('batch_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('pooling_region_code', sa.String(length=6), nullable=False),
    sa.Column('profile_id', sa.String(length=64), nullable=False),
    sa.Column('profile_version', sa.Integer(), nullable=False),
    sa.Column('cycle_start', sa.Date(), nullable=False),
    sa.Column('lines', postgresql.JSONB(astext_type=sa.Text()), nullable=False,
              comment='per generic group or product: winner_count, cycle_years, cycle_end (as extended)'),
    sa.PrimaryKeyConstraint('batch_id')
    )
    op.create_table('yearly_agreements',
    sa.Column('agreement_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('pooling_region_code', sa.String(length=6), nullable=False),
    sa.Column('manufacturer_id', sa.String(length=64), nullable=False),
    sa.Column('distributor_id', sa.String(length=64), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('agreement_year', sa.Integer(), nullable=False),
    sa.Column('year_start', sa.Date(), nullable=False),
    sa.Column('year_end', sa.Date(), nullable=False),
    sa.Column('agreed_quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False, comment='signed, or rolled over (续签) from the previous year'),
    sa.PrimaryKeyConstraint('agreement_id')
    )
    op.create_index(op.f('ix_yearly_agreements_contract_id'), 'yearly_agreements', ['contract_id'], unique=False)
    op.create_index(op.f('ix_yearly_agreements_institution_id'), 'yearly_agreements', ['institution_id'], unique=False)
    op.create_table('delivery_acceptances',
    sa.Column('acceptance_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('accepted_on', sa.Date(), nullable=False),
    sa.Column('accepted_quantity', sa.BigInteger(), nullable=False),
    sa.Column('returned_quantity', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('acceptance_id')
    )
    op.create_index(op.f('ix_delivery_acceptances_contract_id'), 'delivery_acceptances', ['contract_id'], unique=False)
    op.create_table('manufacturer_reports',
    sa.Column('report_id', sa.String(length=64), nullable=False),
    sa.Column('manufacturer_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=False),
    sa.Column('produced_quantity', sa.BigInteger(), nullable=False),
    sa.Column('supplied_quantity', sa.BigInteger(), nullable=False),
    sa.Column('stock_quantity', sa.BigInteger(), nullable=False),
    sa.Column('payments_received', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('report_id')
    )
    op.create_index(op.f('ix_manufacturer_reports_manufacturer_id'), 'manufacturer_reports', ['manufacturer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_manufacturer_reports_manufacturer_id'), table_name='manufacturer_reports')
    op.drop_table('manufacturer_reports')
    op.drop_index(op.f('ix_delivery_acceptances_contract_id'), table_name='delivery_acceptances')
    op.drop_table('delivery_acceptances')
    op.drop_index(op.f('ix_yearly_agreements_institution_id'), table_name='yearly_agreements')
    op.drop_index(op.f('ix_yearly_agreements_contract_id'), table_name='yearly_agreements')
    op.drop_table('yearly_agreements')
    op.drop_table('batches')
    op.alter_column('contracts', 'agreed_quantity', type_=sa.Integer(), existing_nullable=False)
