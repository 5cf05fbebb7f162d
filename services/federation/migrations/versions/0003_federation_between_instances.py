"""federation between instances: remote networks, instance partners, peers and their links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('level', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=30), nullable=True))
        batch_op.create_index(batch_op.f('ix_networks_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='organisation'))
        batch_op.add_column(sa.Column('instance_id', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_partners_instance_id'), ['instance_id'], unique=False)

    op.create_table('peers',
    sa.Column('instance_id', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('api_key', sa.String(length=512), nullable=False),
    sa.Column('network_ids', sa.JSON(), nullable=True),
    sa.Column('config_revision', sa.Integer(), nullable=False),
    sa.Column('cursor', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('skipped', sa.JSON(), nullable=False),
    sa.Column('refused_entries', sa.Integer(), nullable=False),
    sa.Column('last_ingest_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('instance_id')
    )
    op.create_table('peer_links',
    sa.Column('link_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.String(length=100), nullable=False),
    sa.Column('remote_link_id', sa.String(length=100), nullable=False),
    sa.Column('remote_status', sa.String(length=10), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('link_id')
    )
    with op.batch_alter_table('peer_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_links_instance_id'), ['instance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('peer_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_links_instance_id'))
    op.drop_table('peer_links')
    op.drop_table('peers')
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partners_instance_id'))
        batch_op.drop_column('instance_id')
        batch_op.drop_column('kind')
    with op.batch_alter_table('networks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_networks_instance_id'))
        batch_op.drop_column('kind')
        batch_op.drop_column('level')
        batch_op.drop_column('instance_id')
