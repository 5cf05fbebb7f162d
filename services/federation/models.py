"""The federation service's tables: links and blocks, shared copies of outputs, the per-network feeds
(with the append-only log that partner streams read), partners, and a read model of networks."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table

from services.common.db import UTCDateTime
from services.common.outbox import messaging_tables

metadata = MetaData()
PositionType = BigInteger().with_variant(Integer, "sqlite")

networks = Table(
    "networks",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("theme", String(300), nullable=False),
    Column("status", String(10), nullable=False),
    Column("parent_id", String(100), nullable=True),
    Column("revision", Integer, nullable=False),
)

links = Table(
    "links",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("requester", String(100), nullable=False, index=True),
    Column("target", String(100), nullable=False, index=True),
    Column("status", String(10), nullable=False, index=True),
    Column("requester_policy", JSON, nullable=False),
    Column("target_policy", JSON, nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("revision", Integer, nullable=False),
)

blocks = Table(
    "blocks",
    metadata,
    Column("subject_kind", String(10), primary_key=True),  # network or partner
    Column("subject_id", String(100), primary_key=True),
    Column("reason", String(500), nullable=True),
    Column("blocked_at", UTCDateTime(), nullable=False),
)

# One row per output ever seen. A retraction that arrives first leaves a row with no copy: the tombstone
# that keeps the output from appearing later.
outputs = Table(
    "outputs",
    metadata,
    Column("output_id", String(100), primary_key=True),
    Column("origin_network_id", String(100), nullable=False, index=True),
    Column("copy", JSON, nullable=True),  # what recipients see; never a non-consenting author's name
    Column("author_ids", JSON, nullable=False),  # internal: whose erasure must reach the copies
    Column("visibility", String(20), nullable=True),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("retracted_at", UTCDateTime(), nullable=True),
    Column("source", String(100), nullable=False),  # "sessions" or "partner:<id>"
    # The latest output.attribution_changed applied (its changed_at), so an older one arriving late is ignored;
    # one that overtakes output.published waits here (authors, with member ids) for the output to arrive.
    Column("attributed_at", UTCDateTime(), nullable=True),
    Column("pending_authors", JSON, nullable=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("output_id", String(100), primary_key=True),
    Column("network_id", String(100), primary_key=True),
    Column("position", PositionType, nullable=False),
    Column("delivered_at", UTCDateTime(), nullable=False),
    Column("backfill", Boolean, nullable=False),
    Column("tombstoned_at", UTCDateTime(), nullable=True),
    Index("ix_deliveries_network_position", "network_id", "position"),
)

# Append-only: every delivery, retraction and attribution change, per recipient network, in order. Its
# position is the cursor partners resume from.
feed_log = Table(
    "feed_log",
    metadata,
    Column("position", PositionType, primary_key=True, autoincrement=True),
    Column("network_id", String(100), nullable=False),
    Column("output_id", String(100), nullable=False),
    Column("kind", String(20), nullable=False),  # shared, retracted, updated
    Column("backfill", Boolean, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_feed_log_network_position", "network_id", "position"),
)

partners = Table(
    "partners",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("status", String(10), nullable=False),  # active, revoked, blocked
    Column("created_at", UTCDateTime(), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)

partner_networks = Table(
    "partner_networks",
    metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("network_id", String(100), primary_key=True, index=True),
)

outbox, processed_events = messaging_tables(metadata)
