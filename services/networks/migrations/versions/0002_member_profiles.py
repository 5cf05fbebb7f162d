"""member profiles: the newest perspectives per member, for out-of-order membership events

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('member_profiles',
    sa.Column('member_id', sa.String(length=36), nullable=False),
    sa.Column('perspectives', sa.JSON(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('member_id')
    )


def downgrade() -> None:
    op.drop_table('member_profiles')
