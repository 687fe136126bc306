"""kpis: institutions with monitoring facts, filing-purchase warning-line decisions

Revision ID: 7c2e5a91d4b3
Revises: bd015dd7b577
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '7c2e5a91d4b3'
down_revision = 'bd015dd7b577'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kpi_institutions',
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('pooling_region_code', sa.String(length=6), nullable=True, comment='of its latest purchase fact naming one'),
    sa.PrimaryKeyConstraint('institution_id')
    )
    op.create_table('filing_warnings',
    sa.Column('decision_id', sa.String(length=200), nullable=False, comment='filing-warning-{institution}-{year}'),
    sa.Column('institution_id', sa.String(length=64), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('exceeded_on', sa.Date(), nullable=False),
    sa.Column('filing_amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('warning_line', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('line_source', sa.String(length=20), nullable=False, comment='profile | institution'),
    sa.Column('profile_id', sa.String(length=64), nullable=False),
    sa.Column('profile_version', sa.Integer(), nullable=False),
    sa.Column('caused_by', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.PrimaryKeyConstraint('decision_id')
    )
    op.create_index(op.f('ix_filing_warnings_institution_id'), 'filing_warnings', ['institution_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_filing_warnings_institution_id'), table_name='filing_warnings')
    op.drop_table('filing_warnings')
    op.drop_table('kpi_institutions')
