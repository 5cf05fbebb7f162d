"""Between instances on the wire: peer configuration and state, the entries the relay hands in, and links whose
other side lives on a peer instance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from services.common.catalogue import SharingPolicy
from services.common.schemas import Command, NoNul, OutputId, Timestamp
from services.common.vocabulary import NetworkKind, NetworkLevel, OutputKind, ResourceType, Visibility
from services.federation.schemas import Cursor, InstanceId, LinkOut, NetworkId, RemoteNetwork, Tag

Text = Annotated[str, StringConstraints(max_length=20000), NoNul]
# host:port of the peer's gRPC API (a DNS name or an IP; no scheme)
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300,
                                           pattern=r"^[A-Za-z0-9._\-\[\]:]+:[0-9]{1,5}$")]


# PEM text: one CA certificate or a bundle of them
Pem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=65536), NoNul]
ServerName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253,
                                              pattern=r"^[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?$")]


class PeerTransport(Command):
    """How the peer's gRPC API is reached: TLS by default; plaintext only between instances on one machine or
    one private network (local development)."""

    mode: Literal["tls", "plaintext"] = Field(
        "tls", description="tls (default): the peer's certificate is checked against `ca_bundle`, else the "
        "system's trust store; plaintext: no encryption, for local development only")
    ca_bundle: Pem | None = Field(
        None, description="PEM CA certificate(s) the peer's server certificate must chain to (a private CA); "
                          "none: the system's trust store")
    server_name: ServerName | None = Field(
        None, description="the DNS name the peer's certificate must carry, when it is not the host of `address`")
    client_certificate: bool = Field(
        False, description="present this instance's client certificate (KRING_PEER_TLS_CERT_FILE and "
                           "KRING_PEER_TLS_KEY_FILE) to a peer that requires mutual TLS")

    @field_validator("ca_bundle")
    @classmethod
    def _certificates(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from cryptography import x509

        try:
            x509.load_pem_x509_certificates(value.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ValueError("not PEM certificates (-----BEGIN CERTIFICATE----- ...)") from None
        return value

    @model_validator(mode="after")
    def _plaintext_is_plain(self) -> PeerTransport:
        if self.mode == "plaintext" and (self.ca_bundle or self.server_name or self.client_certificate):
            raise ValueError("ca_bundle, server_name and client_certificate apply to mode tls only")
        return self


class ConfigurePeer(Command):
    instance_id: InstanceId = Field(description="the peer's instance id (its GetInstance answers it)")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
    address: Address = Field(description="host:port of the peer's partner gRPC API")
    api_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=512), NoNul] = Field(
        description="the key the peer's operator issued to this instance (registered there as a partner of kind "
                    "instance); stored for the relay, never shown again")
    local_network_ids: Annotated[list[NetworkId], Field(max_length=100)] | None = Field(
        None, description="follow only these of our networks there; none: every network the key owns there")
    transport: PeerTransport = Field(default_factory=PeerTransport,
                                     description="how the peer is reached: TLS (the default) or plaintext")


class PeerState(BaseModel):
    """What the relay last reported about a peer (``updated_at`` says when; a stopped relay reports nothing)."""

    status: str = Field("configured", description="configured (not reported yet), connecting, following, "
                        "backing_off, refused, stopped (the relay let go: stopping, or the peer changed)")
    connected: bool = False
    consecutive_failures: int = 0
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    head_cursor: int | None = Field(None, description="the last position of the peer's feed for us, when last asked")
    cursor_lag: int | None = Field(None, description="entries of the peer's feed for us after our cursor")
    remote_instance: str | None = Field(None, description="the id the peer's GetInstance answered")
    directory_synced_at: datetime | None = Field(
        None, description="when the relay last read the peer's directory of networks (GET /v1/peers/{id}/networks)")
    directory_error: str | None = Field(None, description="why the last reading of the peer's directory failed")
    updated_at: datetime | None = None


class SkippedEntry(BaseModel):
    cursor: int
    output_id: str
    origin_network_id: str
    network_id: str
    reason: str
    at: datetime


class PeerOut(BaseModel):
    instance_id: str
    name: str
    address: str
    transport: PeerTransport
    local_network_ids: list[str] | None
    cursor: int = Field(description="everything in the peer's feed up to here is applied on this instance")
    last_ingest_at: datetime | None
    refused_entries: int = Field(description="entries refused by the origin check, ever")
    skipped: list[SkippedEntry] = Field(description="the latest refused entries, newest last (at most 20)")
    state: PeerState
    created_at: datetime
    changed_at: datetime


class RelayPeer(BaseModel):
    """A peer as the relay needs it: with the key. Internal (RPC only); the admin API never returns it."""

    instance_id: str
    name: str
    address: str
    api_key: str
    transport: PeerTransport
    local_network_ids: list[str] | None
    cursor: int
    config_revision: int

    def __repr__(self) -> str:  # never print the key
        return f"RelayPeer(instance_id={self.instance_id!r}, address={self.address!r}, cursor={self.cursor})"

    __str__ = __repr__


# --- what the relay hands in -------------------------------------------------------------------------------------


class PeerAuthor(Command):
    shown_as: Annotated[str, StringConstraints(min_length=1, max_length=200), NoNul]
    named: bool


class PeerCopy(Command):
    """An output as the peer's feed shows it (``kring.v1.Output``)."""

    output_id: OutputId
    origin_network_id: NetworkId
    session_id: Annotated[str, StringConstraints(max_length=100), NoNul] | None = None
    kind: OutputKind
    title: Annotated[str, StringConstraints(min_length=1, max_length=300), NoNul]
    body: Text = ""
    url: Annotated[str, StringConstraints(max_length=2000), NoNul] | None = None
    resource_type: ResourceType | None = None
    themes: Annotated[list[Tag], Field(max_length=20)] = []
    visibility: Visibility
    licence: Annotated[str, StringConstraints(max_length=50), NoNul] = "CC-BY-4.0"
    authors: Annotated[list[PeerAuthor], Field(max_length=20)] = []
    published_at: Timestamp | None = None


class PeerTombstone(Command):
    output_id: OutputId
    origin_network_id: NetworkId
    retracted_at: Timestamp | None = None


class PeerEntry(Command):
    """One item of the peer's ``StreamOutputs``."""

    cursor: int = Field(ge=1)
    network_id: NetworkId = Field(description="our network whose feed on the peer it is in")
    kind: Literal["shared", "retracted", "updated"]
    backfill: bool = False
    output: PeerCopy | None = None
    tombstone: PeerTombstone | None = None


class IngestEntries(Command):
    # Validated one by one (PeerEntry): an entry that breaks the rules is refused and recorded, not the batch,
    # so one bad entry cannot hold the relay up for good.
    entries: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=500)]


class IngestResult(BaseModel):
    cursor: int = Field(description="the peer's cursor stored with this batch")
    applied: int
    duplicates: int
    refused: list[SkippedEntry]


class ReportPeerState(Command):
    status: Literal["connecting", "following", "backing_off", "refused", "stopped"]
    connected: bool
    consecutive_failures: int = Field(ge=0)
    last_success_at: Timestamp | None = None
    last_error: Annotated[str, StringConstraints(max_length=1000), NoNul] | None = None
    last_error_at: Timestamp | None = None
    head_cursor: int | None = None
    cursor_lag: int | None = None
    remote_instance: Annotated[str, StringConstraints(max_length=100), NoNul] | None = None
    directory_synced_at: Timestamp | None = None
    directory_error: Annotated[str, StringConstraints(max_length=1000), NoNul] | None = None


# --- the peer's directory of networks ----------------------------------------------------------------------------

DIRECTORY_MOST = 5000  # networks of one peer the relay reports (and pages it reads: DIRECTORY_MOST / 200)


class DirectoryNetwork(RemoteNetwork):
    """A network as the peer's ``ListNetworks`` (or, once it is no longer listed, its ``GetNetwork``) shows it."""

    status: Literal["active", "archived"] = "active"


class SyncPeerDirectory(Command):
    """The peer's whole directory as the relay just read it: what is not in it is gone there."""

    networks: Annotated[list[DirectoryNetwork], Field(max_length=DIRECTORY_MOST)]


class DirectorySynced(BaseModel):
    added: int
    changed: int = Field(description="renamed, re-themed, withdrawn, listed again, or approved by registration")
    unchanged: int


class PeerNetworkOut(BaseModel):
    """A network in a peer's directory, and whether it may link here."""

    instance_id: str
    network_id: str
    name: str
    theme: str
    level: NetworkLevel | None
    kind: NetworkKind | None
    status: Literal["offered", "approved", "withdrawn"] = Field(
        description="offered: listed by the peer, not approved here; approved: one of the peer partner's networks "
                    "here, linkable; withdrawn: archived on the peer or no longer listed there (not linkable)")
    withdrawn_reason: Literal["archived", "gone"] | None
    first_seen_at: datetime
    last_seen_at: datetime = Field(description="when the relay last found it in the peer's directory")
    changed_at: datetime
    approved_at: datetime | None
    partner_id: str | None = Field(description="the peer's partner here (kind instance), which owns the network "
                                               "once approved; null while the instance is not registered as one")


class PeerNetworkQuery(Command):
    status: Literal["offered", "approved", "withdrawn"] | None = None


# --- links across instances --------------------------------------------------------------------------------------


class RequestPeerLink(Command):
    requester_network_id: NetworkId = Field(description="one of this instance's networks")
    target_network_id: NetworkId = Field(description="one of the peer's networks, registered here for its partner")
    peer: InstanceId
    policy: SharingPolicy | None = None


class PeerLinkStart(BaseModel):
    """The local link, and whether the gateway must ask the peer for its side (:class:`PeerContact` says how)."""

    link: LinkOut
    remote_link_id: str | None
    call_peer: bool = Field(description="False when the peer asked first: answer its request here instead")


class PeerContact(BaseModel):
    """How to reach a peer's partner API: internal (RPC only, read by a query so no command's answer, which is
    kept for repeats, ever holds the key)."""

    address: str
    api_key: str
    transport: PeerTransport

    def __repr__(self) -> str:  # never print the key
        return f"PeerContact(address={self.address!r})"


class RemoteLink(Command):
    """The peer's copy of a link, as its ``GetLink`` or ``RequestLink`` answered."""

    link_id: Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul]
    status: Literal["requested", "active", "rejected", "revoked", "blocked"]
    target_policy: SharingPolicy | None = None


class OpenPeerLink(BaseModel):
    link_id: str
    remote_link_id: str
    status: str
    remote_status: str | None


class FeedHead(BaseModel):
    head_cursor: int = Field(description="the last position in the log for these networks; 0 if none")
    pending: int = Field(description="entries for these networks after the given cursor")


class LogHeadQuery(Command):
    network_ids: Annotated[list[NetworkId], Field(max_length=1000)]
    cursor: Cursor = 0
