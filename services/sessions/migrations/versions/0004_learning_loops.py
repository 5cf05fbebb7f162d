"""learning loops: a member's learning question, the experiment that came out of a session, and its follow-up

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 17:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('learning_loops',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('network_id', sa.String(length=100), nullable=False),
    sa.Column('owner_id', sa.String(length=64), nullable=False),
    sa.Column('owner_role', sa.String(length=20), nullable=False),
    sa.Column('question', sa.Text(), nullable=True),
    sa.Column('urgency', sa.Text(), nullable=True),
    sa.Column('shared_with_network', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('brought_to_session_id', sa.String(length=36), nullable=True),
    sa.Column('experiment', sa.Text(), nullable=True),
    sa.Column('experiment_session_id', sa.String(length=36), nullable=True),
    sa.Column('experiment_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mandate', sa.String(length=10), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('follow_up_session_id', sa.String(length=36), nullable=True),
    sa.Column('followed_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lesson', sa.Text(), nullable=True),
    sa.Column('output_id', sa.String(length=36), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('learning_loops', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_loops_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_learning_loops_network_opened', ['network_id', 'opened_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('learning_loops', schema=None) as batch_op:
        batch_op.drop_index('ix_learning_loops_network_opened')
        batch_op.drop_index(batch_op.f('ix_learning_loops_owner_id'))
    op.drop_table('learning_loops')
