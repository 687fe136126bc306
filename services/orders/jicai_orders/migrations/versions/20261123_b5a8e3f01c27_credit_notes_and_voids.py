"""credit notes and voids (红冲) of invoices, replacement invoices

Revision ID: b5a8e3f01c27
Revises: 7e2d9b1c4a60
"""
import sqlalchemy as sa
from alembic import op

revision = 'b5a8e3f01c27'
down_revision = '7e2d9b1c4a60'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credit_notes',
    sa.Column('credit_note_id', sa.String(length=64), nullable=False),
    sa.Column('invoice_id', sa.String(length=64), nullable=False),
    sa.Column('credit_note_number', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('invoice_amount_after', sa.Numeric(precision=16, scale=2), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('invoice_id', 'credit_note_id', name='pk_credit_notes')
    )
    op.alter_column('invoices', 'amount', comment='the original amount, as received')
    op.add_column('invoices', sa.Column('credited_amount', sa.Numeric(precision=16, scale=2), server_default=sa.text('0'), nullable=False))
    # Existing invoices ask for their whole amount: fill, then require.
    op.add_column('invoices', sa.Column('current_amount', sa.Numeric(precision=16, scale=2), nullable=True,
                                        comment='what the invoice still asks for: amount − credits, 0 once voided'))
    op.execute('UPDATE invoices SET current_amount = amount')
    op.alter_column('invoices', 'current_amount', nullable=False)
    op.add_column('invoices', sa.Column('voided_on', sa.Date(), nullable=True))
    op.add_column('invoices', sa.Column('void_reason', sa.Text(), nullable=True))
    op.add_column('invoices', sa.Column('replaces_invoice_id', sa.String(length=64), nullable=True))
    op.add_column('invoices', sa.Column('replaced_by_invoice_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column('invoices', 'replaced_by_invoice_id')
    op.drop_column('invoices', 'replaces_invoice_id')
    op.drop_column('invoices', 'void_reason')
    op.drop_column('invoices', 'voided_on')
    op.drop_column('invoices', 'current_amount')
    op.drop_column('invoices', 'credited_amount')
    op.alter_column('invoices', 'amount', comment=None)
    op.drop_table('credit_notes')
