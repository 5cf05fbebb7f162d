"""statement conclusions: what a café's tables concluded per statement, and the statement an output came from

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statement_conclusions', sa.JSON(), nullable=True))
    with op.batch_alter_table('outputs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statement', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outputs', schema=None) as batch_op:
        batch_op.drop_column('statement')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('statement_conclusions')
