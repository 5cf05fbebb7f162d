"""loop facts: the members' action-learning loops, counted by the health report (steps 2, 4 and 6)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:35:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loop_facts',
    sa.Column('loop_id', sa.String(length=36), nullable=False),
    sa.Column('network_id', sa.String(length=100), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('owner_role', sa.String(length=20), nullable=False),
    sa.Column('urgency_stated', sa.Boolean(), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('brought_to_session_id', sa.String(length=36), nullable=True),
    sa.Column('experiment_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mandate', sa.String(length=10), nullable=True),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('output_id', sa.String(length=36), nullable=True),
    sa.PrimaryKeyConstraint('loop_id')
    )
    with op.batch_alter_table('loop_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loop_facts_network_id'), ['network_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('loop_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_loop_facts_network_id'))
    op.drop_table('loop_facts')
