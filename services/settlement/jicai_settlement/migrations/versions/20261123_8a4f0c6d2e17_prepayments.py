"""prepayments (医保预付): agreements, schedules, disbursements, liquidations

Revision ID: 8a4f0c6d2e17
Revises: 3c1d2a7e9b41
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '8a4f0c6d2e17'
down_revision = '3c1d2a7e9b41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('prepayment_agreements',
    sa.Column('agreement_id', sa.String(length=64), nullable=False),
    sa.Column('schedule_id', sa.String(length=80), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('contract_id', sa.String(length=64), nullable=False),
    sa.Column('agreement_year', sa.Integer(), nullable=False),
    sa.Column('year_start', sa.Date(), nullable=False),
    sa.Column('year_end', sa.Date(), nullable=False),
    sa.Column('agreed_quantity', sa.BigInteger(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=14, scale=4), nullable=False),
    sa.Column('signed_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('agreement_id')
    )
    op.create_index(op.f('ix_prepayment_agreements_schedule_id'), 'prepayment_agreements', ['schedule_id'], unique=False)
    op.create_index(op.f('ix_prepayment_agreements_institution_id'), 'prepayment_agreements', ['institution_id'], unique=False)
    op.create_table('prepayment_schedules',
    sa.Column('schedule_id', sa.String(length=80), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('procurement_budget', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('profile_id', sa.String(length=100), nullable=False),
    sa.Column('profile_version', sa.Integer(), nullable=False),
    sa.Column('instalments', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('schedule_id')
    )
    op.create_index(op.f('ix_prepayment_schedules_institution_id'), 'prepayment_schedules', ['institution_id'], unique=False)
    op.create_table('prepayment_disbursements',
    sa.Column('disbursement_id', sa.String(length=64), nullable=False),
    sa.Column('schedule_id', sa.String(length=80), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('disbursed_on', sa.Date(), nullable=False),
    sa.Column('partial', sa.Boolean(), nullable=False),
    sa.Column('last_year_average_monthly_fund_payment', sa.Numeric(precision=16, scale=2), nullable=True),
    sa.PrimaryKeyConstraint('disbursement_id')
    )
    op.create_index(op.f('ix_prepayment_disbursements_schedule_id'), 'prepayment_disbursements', ['schedule_id'], unique=False)
    op.create_table('prepayment_liquidations',
    sa.Column('liquidation_id', sa.String(length=64), nullable=False),
    sa.Column('schedule_id', sa.String(length=80), nullable=False),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('liquidated_on', sa.Date(), nullable=False),
    sa.Column('prepaid', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('invoiced', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.PrimaryKeyConstraint('liquidation_id'),
    sa.UniqueConstraint('schedule_id')
    )


def downgrade() -> None:
    op.drop_table('prepayment_liquidations')
    op.drop_index(op.f('ix_prepayment_disbursements_schedule_id'), table_name='prepayment_disbursements')
    op.drop_table('prepayment_disbursements')
    op.drop_index(op.f('ix_prepayment_schedules_institution_id'), table_name='prepayment_schedules')
    op.drop_table('prepayment_schedules')
    op.drop_index(op.f('ix_prepayment_agreements_institution_id'), table_name='prepayment_agreements')
    op.drop_index(op.f('ix_prepayment_agreements_schedule_id'), table_name='prepayment_agreements')
    op.drop_table('prepayment_agreements')
