"""manufacturer reports: watched manufacturers and missed monthly reports

Revision ID: e3b8d0c6a215
Revises: 7c2e5a91d4b3
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = 'e3b8d0c6a215'
down_revision = '7c2e5a91d4b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('manufacturer_watch',
    sa.Column('manufacturer_id', sa.String(length=64), nullable=False),
    sa.Column('next_due_on', sa.Date(), nullable=True, comment='the due day of the next month to check; NULL when none'),
    sa.PrimaryKeyConstraint('manufacturer_id')
    )
    op.create_index('ix_manufacturer_watch_next_due_on', 'manufacturer_watch', ['next_due_on'], unique=False)
    op.create_table('manufacturer_report_misses',
    sa.Column('decision_id', sa.String(length=200), nullable=False, comment='manufacturer-report-{manufacturer}-{YYYY-MM}'),
    sa.Column('manufacturer_id', sa.String(length=64), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False, comment='the month the report is on, YYYY-MM'),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('profile_id', sa.String(length=64), nullable=False),
    sa.Column('profile_version', sa.Integer(), nullable=False),
    sa.Column('caused_by', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True, comment='submitted_on of the late report; NULL while missing'),
    sa.Column('report_event_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('decision_id')
    )
    op.create_index(op.f('ix_manufacturer_report_misses_manufacturer_id'), 'manufacturer_report_misses', ['manufacturer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_manufacturer_report_misses_manufacturer_id'), table_name='manufacturer_report_misses')
    op.drop_table('manufacturer_report_misses')
    op.drop_index('ix_manufacturer_watch_next_due_on', table_name='manufacturer_watch')
    op.drop_table('manufacturer_watch')
