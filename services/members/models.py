"""The members service's tables (its own database or PostgreSQL schema)."""

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text, false

from services.common.audit import audit_tables
from services.common.db import UTCDateTime
from services.common.outbox import messaging_tables

metadata = MetaData()

members = Table(
    "members",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False, unique=True),
    Column("organisation", String(200), nullable=True, index=True),
    Column("perspectives", JSON, nullable=False),
    Column("expertise", JSON, nullable=False),
    Column("findable_by_expertise", Boolean, nullable=False),
    Column("named_in_shared_outputs", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("erased_at", UTCDateTime(), nullable=True),
    Index("ix_members_name_id", "name", "id"),
)

# Search keys: one row per perspective and per expertise tag, so filters use an index, not JSON scans.
member_tags = Table(
    "member_tags",
    metadata,
    Column("member_id", String(36), ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(20), primary_key=True),  # "perspective" or "expertise"
    Column("value", String(60), primary_key=True),
    Index("ix_member_tags_kind_value", "kind", "value"),
)

memberships = Table(
    "memberships",
    metadata,
    Column("member_id", String(36), ForeignKey("members.id", ondelete="CASCADE"), primary_key=True),
    Column("network_id", String(100), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("joined_at", UTCDateTime(), nullable=False),
    Index("ix_memberships_network", "network_id"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("member_id", String(36), ForeignKey("members.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 hex; the token is never stored
    Column("label", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Column("expires_at", UTCDateTime(), nullable=True),  # None: until revoked (a token the operator issued)
    Column("via", String(20), nullable=False, server_default="operator"),  # "operator" or "sign-in"
    # A sign-in of an e-mail address the gateway lists in KRING_OPERATOR_EMAILS: the operator's authority.
    Column("operator", Boolean, nullable=False, server_default=false()),
)

# Questions members ask experts through Kring: between the two of them only (decision 0010).
expert_questions = Table(
    "expert_questions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("network_id", String(100), nullable=False),
    Column("asker_id", String(36), ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("expert_id", String(36), ForeignKey("members.id", ondelete="CASCADE"), nullable=False),
    Column("tag", String(60), nullable=True),
    Column("text", Text, nullable=False),
    Column("asker_named", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("asked_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("answer", Text, nullable=True),
    Column("shared_email", Boolean, nullable=False),
    Column("contact_note", String(500), nullable=True),
    Column("decline_reason", String(500), nullable=True),
    Column("revision", Integer, nullable=False),
    Index("ix_expert_questions_asker", "asker_id", "asked_at", "id"),
    Index("ix_expert_questions_expert", "expert_id", "asked_at", "id"),
)

outbox, processed_events, processed_commands = messaging_tables(metadata)

# Who did what with people's data: append-only, people only through audit_people (services/common/audit.py).
audit = audit_tables(metadata)
