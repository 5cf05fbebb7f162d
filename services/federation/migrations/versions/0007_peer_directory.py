"""the directory of each peer instance: the networks its partner API lists, offered until approved here

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:45:00.000000

Networks registered by hand (remote_networks of a partner of kind instance) stay as they are; the relay's first
reading of the peer's directory lists them as approved.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('peer_networks',
    sa.Column('instance_id', sa.String(length=100), nullable=False),
    sa.Column('network_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('theme', sa.String(length=300), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('withdrawn_reason', sa.String(length=10), nullable=True),
    sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('instance_id', 'network_id')
    )


def downgrade() -> None:
    op.drop_table('peer_networks')
