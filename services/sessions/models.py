"""The sessions service's tables (its own database or PostgreSQL schema).

Three groups: the sessions with their registrations, attendance, outputs and reflections (and the members'
learning loops); the read models
of networks, people and memberships fed by other services' events (``known_*``); and the kit's outbox and
processed-event tables. Member ids are String(64) because erasure replaces them with longer pseudonyms.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from services.common.db import UTCDateTime
from services.common.outbox import messaging_tables

metadata = MetaData()

MEMBER_ID = 64

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("network_id", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("format", String(40), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("location", String(300), nullable=True),
    Column("meeting_url", String(2100), nullable=True),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("capacity", Integer, nullable=True),
    Column("agenda", Text, nullable=False),
    Column("statements", JSON, nullable=False),
    # statement number (from 1, as text) -> {"text", "concluded_at"}: what a café's tables concluded
    Column("statement_conclusions", JSON, nullable=True),
    Column("status", String(20), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("attendance_revision", Integer, nullable=False),
    Column("attendance_recorded_at", UTCDateTime(), nullable=True),
    Column("cancel_reason", String(500), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_sessions_network_starts", "network_id", "starts_at", "id"),
    Index("ix_sessions_starts", "starts_at", "id"),
)

contributions = Table(
    "session_contributions",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("member_id", String(MEMBER_ID), nullable=False, index=True),
    Column("topic", String(300), nullable=False),
)

# History of every reschedule, oldest first: a network looks back on how often its sessions moved.
reschedules = Table(
    "session_reschedules",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("previous_starts_at", UTCDateTime(), nullable=False),
    Column("previous_ends_at", UTCDateTime(), nullable=False),
    Column("starts_at", UTCDateTime(), nullable=False),
    Column("ends_at", UTCDateTime(), nullable=False),
    Column("reason", String(500), nullable=True),
    Column("rescheduled_at", UTCDateTime(), nullable=False),
)

registrations = Table(
    "registrations",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", String(MEMBER_ID), primary_key=True),
    Column("status", String(20), nullable=False),
    Column("prepared", Boolean, nullable=True),
    Column("unprepared", Boolean, nullable=False),
    Column("position", Integer, nullable=False),  # order of arrival: the waitlist is first come, first served
    Column("registered_at", UTCDateTime(), nullable=False),
    Column("cancelled_at", UTCDateTime(), nullable=True),
    Index("ix_registrations_member", "member_id"),
)

# Perspectives are copied at recording time, so a later profile change does not rewrite history.
attendance = Table(
    "attendance",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("member_id", String(MEMBER_ID), primary_key=True),
    Column("perspectives", JSON, nullable=False),
    Index("ix_attendance_member", "member_id"),
)

outputs = Table(
    "outputs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("network_id", String(100), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("title", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("url", String(2100), nullable=True),
    Column("resource_type", String(30), nullable=True),
    Column("themes", JSON, nullable=False),
    Column("visibility", String(20), nullable=False),
    Column("licence", String(40), nullable=False),
    Column("published_at", UTCDateTime(), nullable=False),
    Column("retracted_at", UTCDateTime(), nullable=True),
    Column("retraction_reason", String(500), nullable=True),
    Column("statement", Integer, nullable=True),  # the number of the session's statement it came from
    Index("ix_outputs_network_published", "network_id", "published_at", "id"),
    Index("ix_outputs_session_published", "session_id", "published_at", "id"),
)

output_authors = Table(
    "output_authors",
    metadata,
    Column("output_id", String(36), ForeignKey("outputs.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("member_id", String(MEMBER_ID), nullable=False, index=True),
)

reflections = Table(
    "reflections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("network_id", String(100), nullable=False),
    Column("member_id", String(MEMBER_ID), nullable=False, index=True),
    Column("kind", String(30), nullable=False),
    Column("text", Text, nullable=True),  # NULL once the member is erased; the kind still counts
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index("ix_reflections_network_recorded", "network_id", "recorded_at"),
)

# The action-learning loop: a member's learning question, its experiment and follow-up. Sessions are referenced
# by id (no foreign key: a loop outlives nothing but is never deleted with a session, which is never deleted).
learning_loops = Table(
    "learning_loops",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("network_id", String(100), nullable=False),
    Column("owner_id", String(MEMBER_ID), nullable=False, index=True),
    Column("owner_role", String(20), nullable=False),
    Column("question", Text, nullable=True),  # the owner's words: NULL once they are erased, as below
    Column("urgency", Text, nullable=True),
    Column("shared_with_network", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("brought_to_session_id", String(36), nullable=True),
    Column("experiment", Text, nullable=True),
    Column("experiment_session_id", String(36), nullable=True),
    Column("experiment_at", UTCDateTime(), nullable=True),
    Column("mandate", String(10), nullable=True),
    Column("follow_up", Text, nullable=True),
    Column("follow_up_session_id", String(36), nullable=True),
    Column("followed_up_at", UTCDateTime(), nullable=True),
    Column("lesson", Text, nullable=True),
    Column("output_id", String(36), nullable=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_learning_loops_network_opened", "network_id", "opened_at", "id"),
)

# --- read models fed by events of the networks and members services ------------------------------------

known_networks = Table(
    "known_networks",
    metadata,
    Column("network_id", String(100), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("requires_preparation", Boolean, nullable=False),
    Column("unprepared_policy", String(20), nullable=False),
)

known_people = Table(
    "known_people",
    metadata,
    Column("member_id", String(MEMBER_ID), primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("perspectives", JSON, nullable=False),
    Column("named_in_shared_outputs", Boolean, nullable=False),
    Column("erased", Boolean, nullable=False),
)

# One row per (network, member) ever seen; ``active`` false is a tombstone that keeps the revision of the
# leave, so an older ``membership.joined`` arriving later cannot bring the membership back.
known_memberships = Table(
    "known_memberships",
    metadata,
    Column("network_id", String(100), primary_key=True),
    Column("member_id", String(MEMBER_ID), primary_key=True),
    Column("role", String(20), nullable=True),
    Column("revision", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Index("ix_known_memberships_member", "member_id"),
)

outbox, processed_events, processed_commands = messaging_tables(metadata)
