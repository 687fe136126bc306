"""day close split by partition: each queued invoice's orders-topic partition; the close's correlation

Revision ID: 3b9e5d1c7a20
Revises: 8e2d4c6a1f37
"""
import sqlalchemy as sa
from alembic import op

revision = '3b9e5d1c7a20'
down_revision = '8e2d4c6a1f37'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('day_close_queue', sa.Column(
        'partition', sa.SmallInteger(), server_default=sa.text('0'), nullable=False,
        comment="the orders-topic partition of the invoice's institution: the instance assigned it decides it first",
    ))
    op.create_index('ix_day_close_queue_partition', 'day_close_queue', ['business_date', 'partition', 'invoice_id'])
    op.add_column('day_close_runs', sa.Column(
        'correlation_id', sa.String(length=64), nullable=True, comment="the DayClosed's correlation, which every chunk continues",
    ))


def downgrade() -> None:
    op.drop_column('day_close_runs', 'correlation_id')
    op.drop_index('ix_day_close_queue_partition', table_name='day_close_queue')
    op.drop_column('day_close_queue', 'partition')
