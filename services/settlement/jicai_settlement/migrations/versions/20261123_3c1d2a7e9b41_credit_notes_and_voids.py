"""credit notes and voids (红冲), release reasons, payer of a payment

Revision ID: 3c1d2a7e9b41
Revises: fe848e8de234
"""
import sqlalchemy as sa
from alembic import op

revision = '3c1d2a7e9b41'
down_revision = 'fe848e8de234'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('invoices', sa.Column('amount_due', sa.Numeric(precision=16, scale=2), nullable=True,
                                        comment='what the invoice asks for after credit notes and voids (红冲)'))
    op.execute('update invoices set amount_due = amount')
    op.alter_column('invoices', 'amount_due', nullable=False)
    op.add_column('invoices', sa.Column('voided_on', sa.Date(), nullable=True))
    op.add_column('invoices', sa.Column('void_reason', sa.Text(), nullable=True))
    op.add_column('invoices', sa.Column('pooling_region_code', sa.String(length=6), nullable=True))
    op.create_table('invoice_credits',
    sa.Column('credit_note_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('credit_note_number', sa.String(length=100), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('amount_after', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('credit_note_id')
    )
    op.create_index(op.f('ix_invoice_credits_invoice_id'), 'invoice_credits', ['invoice_id'], unique=False)
    op.add_column('monthly_settlements', sa.Column('release_reason', sa.Text(), nullable=True))
    op.add_column('payments', sa.Column('payer', sa.String(length=20), server_default=sa.text("'institution'"), nullable=False))


def downgrade() -> None:
    op.drop_column('payments', 'payer')
    op.drop_column('monthly_settlements', 'release_reason')
    op.drop_index(op.f('ix_invoice_credits_invoice_id'), table_name='invoice_credits')
    op.drop_table('invoice_credits')
    op.drop_column('invoices', 'pooling_region_code')
    op.drop_column('invoices', 'void_reason')
    op.drop_column('invoices', 'voided_on')
    op.drop_column('invoices', 'amount_due')
