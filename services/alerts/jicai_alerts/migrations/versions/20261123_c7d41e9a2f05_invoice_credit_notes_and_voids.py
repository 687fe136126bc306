"""invoice credit notes and voids (红冲) in the obligation read model

Revision ID: c7d41e9a2f05
Revises: e3b8d0c6a215
"""
import sqlalchemy as sa
from alembic import op

revision = 'c7d41e9a2f05'
down_revision = 'e3b8d0c6a215'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('credited', sa.Numeric(precision=16, scale=2), server_default=sa.text('0'), nullable=False,
                                        comment='Σ credit notes (红冲)'))
    op.add_column('invoices', sa.Column('voided_on', sa.Date(), nullable=True, comment='全额红冲: nothing owed from this day'))


def downgrade() -> None:
    op.drop_column('invoices', 'voided_on')
    op.drop_column('invoices', 'credited')
