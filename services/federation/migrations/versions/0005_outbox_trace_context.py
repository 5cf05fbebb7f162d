"""outbox trace context: each event row keeps the W3C trace context of its creation, sent on with the event

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:30:00.000000
"""
from services.common.migrations import add_outbox_trace_context, drop_outbox_trace_context

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_trace_context()


def downgrade() -> None:
    drop_outbox_trace_context()
