"""day close in chunks: the close in progress and the invoices it has yet to decide

Revision ID: 8e2d4c6a1f37
Revises: a1c0de7f2b01
"""
import sqlalchemy as sa
from alembic import op

revision = '8e2d4c6a1f37'
down_revision = 'a1c0de7f2b01'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('day_close_runs',
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('day_closed_event_id', sa.String(length=64), nullable=False),
    sa.Column('previous_closed_on', sa.Date(), nullable=True, comment='the clock before this close: the last day fully decided'),
    sa.Column('previous_event_id', sa.String(length=64), nullable=True),
    sa.Column('invoices_due', sa.Integer(), nullable=False, comment='invoices whose decision day had come when the close began'),
    sa.Column('invoices_decided', sa.Integer(), server_default=sa.text('0'), nullable=False, comment='of those, taken by committed chunks'),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('business_date')
    )
    op.create_table('day_close_queue',
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('business_date', 'invoice_id')
    )


def downgrade() -> None:
    op.drop_table('day_close_queue')
    op.drop_table('day_close_runs')
