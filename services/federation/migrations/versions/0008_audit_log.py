"""the audit log: who did what with trust (append-only; people only through audit_people)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 20:40:00.000000
"""
from services.common.audit import create_audit_tables, drop_audit_tables

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_audit_tables()


def downgrade() -> None:
    drop_audit_tables()
