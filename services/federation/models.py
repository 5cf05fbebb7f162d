"""The federation service's tables: links and blocks, shared copies of outputs, the per-network feeds
(with the append-only log that partner streams read), partners, a read model of networks, and the peer
instances this instance follows (issue 5)."""

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

from services.common.audit import audit_tables
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
    # A network hosted by another Kring instance (registered with that instance's partner): its instance id,
    # and the level and kind the operator gave. NULL for this instance's own networks (from network events).
    Column("instance_id", String(100), nullable=True, index=True),
    Column("level", String(20), nullable=True),
    Column("kind", String(30), nullable=True),
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
    Column("kind", String(20), nullable=False, server_default="organisation"),  # organisation or instance
    Column("instance_id", String(100), nullable=True, index=True),  # for kind instance: the peer's instance id
)

partner_networks = Table(
    "partner_networks",
    metadata,
    Column("partner_id", String(36), primary_key=True),
    Column("network_id", String(100), primary_key=True, index=True),
)

# Peer instances this instance follows: where to reach each one, the key it issued to us (encrypted with
# KRING_FEDERATION_KEYS, services/common/keys_at_rest.py: the relay must present it; the API never shows
# it), the cursor in its feed up to which everything is applied here, and the relay's view of it.
peers = Table(
    "peers",
    metadata,
    Column("instance_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("address", String(300), nullable=False),
    Column("api_key", Text, nullable=False),  # "fernet:" + the Fernet token
    Column("transport", JSON, nullable=True),  # how it is reached (PeerTransport); NULL: plaintext, as before
    Column("network_ids", JSON, nullable=True),  # our networks to follow there; NULL: every one the key owns
    Column("config_revision", Integer, nullable=False),
    Column("cursor", PositionType, nullable=False),
    Column("state", JSON, nullable=False),  # written by the relay: connected, status, failures, last error...
    Column("skipped", JSON, nullable=False),  # the latest entries refused by the origin check
    Column("refused_entries", Integer, nullable=False),
    Column("last_ingest_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
)

# A local link whose other side lives on a peer instance: the id the peer gave its copy of the link, and the
# status the relay last saw there.
peer_links = Table(
    "peer_links",
    metadata,
    Column("link_id", String(36), primary_key=True),
    Column("instance_id", String(100), nullable=False, index=True),
    Column("remote_link_id", String(100), nullable=False),
    Column("remote_status", String(10), nullable=True),
    Column("checked_at", UTCDateTime(), nullable=True),
)

# The directory of a peer instance: the networks its partner API lists (ListNetworks, read by the relay), each
# offered until this instance's operator approves it (then it is one of the peer partner's networks, linkable),
# withdrawn when the peer no longer lists it (archived there, or gone).
peer_networks = Table(
    "peer_networks",
    metadata,
    Column("instance_id", String(100), primary_key=True),
    Column("network_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("theme", String(300), nullable=False),
    Column("level", String(20), nullable=True),
    Column("kind", String(30), nullable=True),
    Column("status", String(10), nullable=False),  # offered, approved, withdrawn
    Column("withdrawn_reason", String(10), nullable=True),  # archived, gone
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("approved_at", UTCDateTime(), nullable=True),
)

outbox, processed_events, processed_commands = messaging_tables(metadata)

# Who did what with trust: append-only, people only through audit_people (services/common/audit.py).
audit = audit_tables(metadata)
