"""calendar years loaded at run time; invoices waiting for the working-day calendar

Revision ID: 4f6a2c9e8b17
Revises: 4d7f1b2e8a90
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '4f6a2c9e8b17'
down_revision = '4d7f1b2e8a90'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column('invoices', 'deadline', existing_type=sa.Date(), nullable=True,
                    comment='NULL while it waits for the working-day calendar of its year')
    op.add_column('invoices', sa.Column('waiting_for_calendar_year', sa.Integer(), nullable=True,
                                        comment='the year whose working-day calendar the next decision waits for'))
    op.create_index('ix_invoices_waiting_for_calendar_year', 'invoices', ['waiting_for_calendar_year'], unique=False,
                    postgresql_where=sa.text('waiting_for_calendar_year IS NOT NULL'))
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False, comment='the State Council notice it transcribes'),
    sa.Column('holidays', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='rest days (放假), ISO dates'),
    sa.Column('makeup_working_days', postgresql.JSONB(astext_type=sa.Text()), nullable=False, comment='weekend working days (调休上班)'),
    sa.Column('loaded_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )


def downgrade() -> None:
    op.drop_table('calendar_years')
    op.drop_index('ix_invoices_waiting_for_calendar_year', table_name='invoices',
                  postgresql_where=sa.text('waiting_for_calendar_year IS NOT NULL'))
    op.drop_column('invoices', 'waiting_for_calendar_year')
    op.alter_column('invoices', 'deadline', existing_type=sa.Date(), nullable=False, comment=None)
