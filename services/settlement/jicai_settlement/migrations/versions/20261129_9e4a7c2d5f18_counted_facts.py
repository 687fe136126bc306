"""counted facts: acceptances and returns a contract stream counted, by key

Revision ID: 9e4a7c2d5f18
Revises: 7a0c4e5b1d23
"""
import sqlalchemy as sa
from alembic import op

revision = '9e4a7c2d5f18'
down_revision = '7a0c4e5b1d23'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('counted_facts',
    sa.Column('stream_id', sa.String(length=200), nullable=False),
    sa.Column('event_type', sa.String(length=200), nullable=False, comment='the counting event'),
    sa.Column('fact_id', sa.String(length=200), nullable=False, comment='its business id: acceptance, purchase, return or fact id'),
    sa.PrimaryKeyConstraint('stream_id', 'event_type', 'fact_id'),
    comment='whether a fact is counted in a stream already, without loading the stream'
    )
    # What the projection would have written for the facts already in the store.
    op.execute(
        "INSERT INTO counted_facts (stream_id, event_type, fact_id) SELECT stream_id, event_type, "
        "CASE event_type WHEN 'AcceptanceNoted' THEN data->>'acceptance_id' ELSE data->>'return_id' END "
        "FROM event_store WHERE event_type IN ('AcceptanceNoted', 'ReturnNoted') ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_table('counted_facts')
