"""A peer instance's ``kring.v1.Federation`` API, as the relay (and the gateway, for link requests) calls it:
with the key the peer issued to this instance, a deadline on every unary call, and the peer's answers turned
into the JSON shapes the federation service takes (:mod:`services.federation.peers.schemas`).

gRPC errors become typed errors: the peer being away (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED,
INTERNAL, ...) is :class:`~services.common.errors.Unavailable`, worth retrying; the peer saying no
(UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, NOT_FOUND, ...) is :class:`PeerRefused`, which asking
again the same way will not change. A TLS handshake that fails is a refusal too, saying why
(:func:`services.federation.relay.transport.diagnose`): a certificate expired, from a CA not trusted, for another
name, or none where the peer requires one. Never import this under eventlet: grpcio hangs there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any

import grpc
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from services.api.enums import enum_number, enum_text
from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc
from services.common import tracing
from services.common.errors import KringError, Unavailable
from services.federation.relay.transport import (
    ClientIdentity,
    Transport,
    TransportNotUsable,
    diagnose,
    open_channel,
)

TRANSIENT = frozenset({
    grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DATA_LOSS,
})
AUTH = frozenset({grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED})
DIRECTORY_PAGES = 25  # of 200 networks: the most of a peer's directory the relay reads (SyncPeerDirectory's limit)


class PeerRefused(KringError):
    """The peer instance answered, and said no. ``auth`` (in the message) when it refused our key."""

    code = "peer_refused"
    http_status = 502
    grpc_status = "FAILED_PRECONDITION"


def peer_error(instance_id: str, what: str, exc: grpc.RpcError) -> KringError:
    code = exc.code() if callable(getattr(exc, "code", None)) else grpc.StatusCode.UNKNOWN
    details = exc.details() if callable(getattr(exc, "details", None)) else str(exc)
    if code in TRANSIENT:
        return Unavailable(f"peer {instance_id}: {what}: {code.name}: {details}")
    hint = " (our key there was refused: ask the peer's operator for a new one and update this peer)" \
        if code in AUTH else ""
    return PeerRefused(f"peer {instance_id} refused {what}: {code.name}: {details}{hint}")


class PeerStream:
    """An open ``StreamOutputs`` call: iterate for entries (dicts); ``cancel`` from any thread ends it."""

    def __init__(self, instance_id: str, call: Any) -> None:
        self.instance_id = instance_id
        self._call = call
        self._cancelled = threading.Event()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for item in self._call:
                yield entry_of(item)
        except grpc.RpcError as exc:
            if self._cancelled.is_set():
                return
            raise peer_error(self.instance_id, "the stream", exc) from None

    def cancel(self) -> None:
        self._cancelled.set()
        self._call.cancel()


class PeerClient:
    """``transport``: the peer's connection settings as stored (None: plaintext); ``identity``: this instance's
    client certificate, for a peer whose settings ask for it."""

    def __init__(self, instance_id: str, address: str, api_key: str, *, timeout: float = 10.0,
                 transport: dict[str, Any] | None = None, identity: ClientIdentity | None = None,
                 channel_factory: Callable[[str], grpc.Channel] | None = None) -> None:
        self.instance_id = instance_id
        self.address = address
        self.timeout = timeout
        self.transport = Transport.of(transport)
        self.identity = identity
        self._metadata = (("authorization", f"Bearer {api_key}"),)
        try:
            channel = channel_factory(address) if channel_factory is not None else \
                open_channel(address, self.transport, identity)
        except TransportNotUsable as exc:
            raise PeerRefused(f"peer {instance_id}: {exc}") from None
        # With tracing on, each call to the peer is a span and carries its traceparent to the peer's gateway.
        self._channel = grpc.intercept_channel(channel, *tracing.grpc_client_interceptors())
        self._stub = federation_pb2_grpc.FederationStub(self._channel)

    def __repr__(self) -> str:  # never the key
        return f"PeerClient({self.instance_id!r} at {self.address!r})"

    def get_instance(self) -> dict[str, str]:
        answer: pb.Instance = self._unary("GetInstance", pb.GetInstanceRequest(), "GetInstance")
        return {"id": answer.id, "name": answer.name, "version": answer.version, "api_version": answer.api_version}

    def stream(self, cursor: int, network_ids: list[str] | None) -> PeerStream:
        request = pb.StreamOutputsRequest(cursor=str(cursor) if cursor else "", network_ids=network_ids or [])
        return PeerStream(self.instance_id, self._stub.StreamOutputs(request, metadata=self._metadata))

    def feed_head(self, cursor: int, network_ids: list[str] | None) -> tuple[int, int]:
        """(the cursor of the last item of our feed there, how many items come after ``cursor``)."""
        request = pb.GetFeedHeadRequest(cursor=str(cursor) if cursor else "", network_ids=network_ids or [])
        answer: pb.FeedHead = self._unary("GetFeedHead", request, "GetFeedHead")
        return int(answer.cursor or 0), int(answer.pending)

    def request_link(self, requester: str, target: str, policy: dict[str, Any] | None) -> dict[str, Any]:
        request = pb.RequestLinkRequest(requester_network_id=requester, target_network_id=target)
        if policy is not None:
            request.policy.CopyFrom(pb.SharingPolicy(
                visibilities=[enum_number(pb.Visibility, v) for v in policy["visibilities"]],
                themes=policy.get("themes") or []))
        return link_of(self._unary("RequestLink", request, f"RequestLink {requester} → {target}"))

    def get_link(self, link_id: str) -> dict[str, Any]:
        return link_of(self._unary("GetLink", pb.GetLinkRequest(link_id=link_id), f"GetLink {link_id}"))

    def list_networks(self) -> list[dict[str, Any]]:
        """Every network the peer's directory lists (``ListNetworks``, page after page; active networks only)."""
        found: list[dict[str, Any]] = []
        token = ""
        for _ in range(DIRECTORY_PAGES):
            page: pb.ListNetworksResponse = self._unary(
                "ListNetworks", pb.ListNetworksRequest(page_size=200, page_token=token), "ListNetworks")
            found += [network_of(n) for n in page.networks]
            token = page.next_page_token
            if not token:
                return found
        raise PeerRefused(f"peer {self.instance_id}: its directory has more than {DIRECTORY_PAGES * 200} networks")

    def get_network(self, network_id: str) -> dict[str, Any] | None:
        try:
            answer: pb.Network = self._unary("GetNetwork", pb.GetNetworkRequest(network_id=network_id),
                                             f"GetNetwork {network_id}")
        except PeerRefused as exc:
            if "NOT_FOUND" in str(exc):
                return None
            raise
        return network_of(answer)

    def close(self) -> None:
        self._channel.close()

    def _unary(self, method: str, request: Message, what: str) -> Any:
        """Call one unary method of the peer: its answer is the message the method returns (the generated stub
        is not typed, so the caller names that message's type)."""
        try:
            return getattr(self._stub, method)(request, metadata=self._metadata, timeout=self.timeout)
        except grpc.RpcError as exc:
            error = peer_error(self.instance_id, what, exc)
            if isinstance(error, Unavailable) and exc.code() == grpc.StatusCode.UNAVAILABLE:
                why = diagnose(self.address, self.transport, self.identity, self.timeout)
                if why is not None:
                    raise PeerRefused(f"peer {self.instance_id}: {what}: {why}") from None
            raise error from None


# --- the peer's messages as the federation service takes them ------------------------------------------------------


def entry_of(item: pb.FeedItem) -> dict[str, Any]:
    entry: dict[str, Any] = {"cursor": int(item.cursor), "network_id": item.network_id,
                             "kind": enum_text(pb.FeedItemKind, item.kind), "backfill": item.backfill}
    content = item.WhichOneof("content")
    if content == "output":
        entry["output"] = output_of(item.output)
    elif content == "tombstone":
        entry["tombstone"] = {"output_id": item.tombstone.output_id,
                              "origin_network_id": item.tombstone.origin_network_id,
                              "retracted_at": _time(item.tombstone, "retracted_at")}
    return entry


def output_of(output: pb.Output) -> dict[str, Any]:
    return {
        "output_id": output.output_id, "origin_network_id": output.origin_network_id,
        "session_id": output.session_id or None, "kind": enum_text(pb.OutputKind, output.kind),
        "title": output.title, "body": output.body, "url": output.url or None,
        "resource_type": enum_text(pb.ResourceType, output.resource_type) if output.resource_type else None,
        "themes": list(output.themes), "visibility": enum_text(pb.Visibility, output.visibility),
        "licence": output.licence or "CC-BY-4.0",
        "authors": [{"shown_as": a.shown_as, "named": a.named} for a in output.authors],
        "published_at": _time(output, "published_at"),
    }


def network_of(network: pb.Network) -> dict[str, Any]:
    """A network of the peer's directory; a level or kind this version does not know (a newer peer) is left out."""
    return {"id": network.id, "name": network.name, "theme": network.theme,
            "level": _known(pb.NetworkLevel, network.level), "kind": _known(pb.NetworkKind, network.kind),
            "status": "archived" if network.status == pb.NETWORK_STATUS_ARCHIVED else "active"}


def _known(enum_type: Any, number: int) -> str | None:
    try:
        return enum_text(enum_type, number) if number else None
    except ValueError:
        return None


def link_of(link: pb.Link) -> dict[str, Any]:
    policy = link.target_policy
    return {"link_id": link.link_id, "status": enum_text(pb.LinkStatus, link.status),
            "target_policy": {"visibilities": [enum_text(pb.Visibility, v) for v in policy.visibilities],
                              "themes": list(policy.themes) or None} if link.HasField("target_policy") else None}


def _time(message: Message, field: str) -> str | None:
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    try:
        return stamp.ToDatetime(tzinfo=UTC).isoformat()
    except ValueError:
        # Outside Python's calendar: passed on as it is, so that the federation service refuses this one entry
        # (naming the field) and applies the rest, instead of the relay failing on the whole batch.
        return f"{stamp.seconds} s from 1970, outside the calendar"
