"""volume allocations record the pooling region and the profile that decided them

Revision ID: a7c3e91f0d24
Revises: 5d2e8a41c7b3
"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e91f0d24'
down_revision = '5d2e8a41c7b3'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: drafts recorded before the profile decided have none
    op.add_column('volume_allocations', sa.Column('pooling_region_code', sa.String(length=6), nullable=True,
                                                  comment='the region whose profile decided; null on drafts recorded before'))
    op.add_column('volume_allocations', sa.Column('profile_id', sa.String(length=64), nullable=True))
    op.add_column('volume_allocations', sa.Column('profile_version', sa.Integer(), nullable=True))
    op.add_column('volume_allocations', sa.Column('profile_method', sa.String(length=40), nullable=True,
                                                  comment="the profile's [allocation] method"))


def downgrade() -> None:
    for column in ('profile_method', 'profile_version', 'profile_id', 'pooling_region_code'):
        op.drop_column('volume_allocations', column)
