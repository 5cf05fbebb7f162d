"""expert questions: a member's question to a findable expert, between the two of them

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 17:10:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('expert_questions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('network_id', sa.String(length=100), nullable=False),
    sa.Column('asker_id', sa.String(length=36), nullable=False),
    sa.Column('expert_id', sa.String(length=36), nullable=False),
    sa.Column('tag', sa.String(length=60), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('asker_named', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('shared_email', sa.Boolean(), nullable=False),
    sa.Column('contact_note', sa.String(length=500), nullable=True),
    sa.Column('decline_reason', sa.String(length=500), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asker_id'], ['members.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['expert_id'], ['members.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('expert_questions', schema=None) as batch_op:
        batch_op.create_index('ix_expert_questions_asker', ['asker_id', 'asked_at', 'id'], unique=False)
        batch_op.create_index('ix_expert_questions_expert', ['expert_id', 'asked_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('expert_questions', schema=None) as batch_op:
        batch_op.drop_index('ix_expert_questions_expert')
        batch_op.drop_index('ix_expert_questions_asker')
    op.drop_table('expert_questions')
