"""tokens: an expiry, how they were issued (by the operator or by a sign-in) and whether they carry the operator's
authority (a sign-in of an e-mail address the gateway lists as an operator's)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:20:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing tokens were all issued by the operator and never expire: the defaults say exactly that.
    with op.batch_alter_table('access_tokens') as batch:
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('via', sa.String(length=20), nullable=False, server_default='operator'))
        batch.add_column(sa.Column('operator', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('access_tokens') as batch:
        batch.drop_column('operator')
        batch.drop_column('via')
        batch.drop_column('expires_at')
