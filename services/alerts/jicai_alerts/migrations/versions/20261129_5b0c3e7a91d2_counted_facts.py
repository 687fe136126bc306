"""counted facts: keyed state of the counting events; the last month evaluated for R4

Revision ID: 5b0c3e7a91d2
Revises: 4f6a2c9e8b17
"""
import sqlalchemy as sa
from alembic import op

revision = '5b0c3e7a91d2'
down_revision = '4f6a2c9e8b17'
branch_labels = None
depends_on = None

KEYS = {
    'NonWinningAcceptanceCounted': 'acceptance_id',
    'NonWinningPurchaseCounted': 'purchase_id',
    'VolumeAcceptanceCounted': 'acceptance_id',
    'VolumeReturnCounted': 'return_id',
    'KpiPurchaseCounted': 'fact_id',
}


def upgrade() -> None:
    op.create_table('counted_facts',
    sa.Column('stream_id', sa.String(length=200), nullable=False),
    sa.Column('event_type', sa.String(length=200), nullable=False, comment='the counting event'),
    sa.Column('fact_id', sa.String(length=200), nullable=False, comment='its business id: acceptance, purchase, return or fact id'),
    sa.PrimaryKeyConstraint('stream_id', 'event_type', 'fact_id'),
    comment='whether a fact is counted in a stream already, without loading the stream'
    )
    op.add_column('non_winning_institutions', sa.Column(
        'last_month', sa.Date(), nullable=True, comment='first day of the last month evaluated; NULL when none'
    ))
    # What the projections would have written: the facts already in the store, the months already evaluated.
    key = "CASE event_type " + " ".join(f"WHEN '{t}' THEN data->>'{k}'" for t, k in KEYS.items()) + " END"
    types = ", ".join(f"'{t}'" for t in KEYS)
    op.execute(
        f"INSERT INTO counted_facts (stream_id, event_type, fact_id) SELECT stream_id, event_type, {key} "
        f"FROM event_store WHERE event_type IN ({types}) ON CONFLICT DO NOTHING"
    )
    op.execute(
        "UPDATE non_winning_institutions i SET last_month = e.month FROM ("
        " SELECT data->>'institution_id' AS institution_id, max((data->>'month')::date) AS month FROM event_store"
        " WHERE event_type = 'NonWinningMonthEvaluated' GROUP BY 1) e WHERE e.institution_id = i.institution_id"
    )


def downgrade() -> None:
    op.drop_column('non_winning_institutions', 'last_month')
    op.drop_table('counted_facts')
