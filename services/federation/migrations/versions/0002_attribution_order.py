"""attribution changes: their order, and one that arrives before its output

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
    with op.batch_alter_table('outputs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attributed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pending_authors', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outputs', schema=None) as batch_op:
        batch_op.drop_column('pending_authors')
        batch_op.drop_column('attributed_at')
