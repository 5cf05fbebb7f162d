"""The networks service's tables: networks, and read models fed by other services' events."""

from sqlalchemy import JSON, Boolean, Column, Date, Index, Integer, MetaData, String, Table

from services.common.db import UTCDateTime
from services.common.outbox import messaging_tables

metadata = MetaData()

networks = Table(
    "networks",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("level", String(20), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("theme", String(300), nullable=False),
    Column("urgency", String(2000), nullable=True),
    Column("host_organisation", String(200), nullable=True),
    Column("parent_id", String(100), nullable=True, index=True),
    Column("region", String(100), nullable=True),
    Column("cadence_weeks", Integer, nullable=True),
    Column("start_date", Date, nullable=True),
    Column("requires_preparation", Boolean, nullable=False),
    Column("unprepared_policy", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("revision", Integer, nullable=False),
    Index("ix_networks_name_id", "name", "id"),
)

# Read model from the members service's events. A row that is no longer active is a tombstone: it keeps
# the revision so an older, late-arriving event cannot bring the membership back.
network_members = Table(
    "network_members",
    metadata,
    Column("network_id", String(100), primary_key=True),
    Column("member_id", String(36), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("perspectives", JSON, nullable=False),
    Column("perspectives_revision", Integer, nullable=False),
    Index("ix_network_members_member", "member_id"),
)

# The newest perspectives each member's profile events carried, so an older membership.joined that arrives
# after a newer member.updated (they travel on different queues) cannot bring back superseded perspectives.
member_profiles = Table(
    "member_profiles",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("perspectives", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
)

erased_members = Table(
    "erased_members",
    metadata,
    Column("member_id", String(36), primary_key=True),
    Column("revision", Integer, nullable=False),
)

# Read models from the sessions service's events, for the health report.
session_facts = Table(
    "session_facts",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("network_id", String(100), nullable=False, index=True),
    Column("status", String(10), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("contributor_ids", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
)

output_facts = Table(
    "output_facts",
    metadata,
    Column("output_id", String(36), primary_key=True),
    Column("network_id", String(100), nullable=False, index=True),
    Column("kind", String(30), nullable=True),  # null for a retraction that arrived before its output
    Column("visibility", String(20), nullable=True),
    Column("retracted", Boolean, nullable=False),
)

reflection_facts = Table(
    "reflection_facts",
    metadata,
    Column("reflection_id", String(36), primary_key=True),
    Column("network_id", String(100), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
)

outbox, processed_events, processed_commands = messaging_tables(metadata)


# The action-learning loops of the network's members, without their words or owners (the sessions service's
# learning-loop events): what steps 2, 4 and 6 of the health report count. ``revision`` orders a loop's snapshots.
loop_facts = Table(
    "loop_facts",
    metadata,
    Column("loop_id", String(36), primary_key=True),
    Column("network_id", String(100), nullable=False, index=True),
    Column("revision", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("owner_role", String(20), nullable=False),
    Column("urgency_stated", Boolean, nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("brought_to_session_id", String(36), nullable=True),
    Column("experiment_at", UTCDateTime(), nullable=True),
    Column("mandate", String(10), nullable=True),
    Column("followed_up_at", UTCDateTime(), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("output_id", String(36), nullable=True),
)
