"""processed commands: each command request applied once, its answer kept for repeats

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 14:00:00.000000
"""
from services.common.migrations import create_processed_commands, drop_processed_commands

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_processed_commands()


def downgrade() -> None:
    drop_processed_commands()
