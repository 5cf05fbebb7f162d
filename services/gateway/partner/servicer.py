"""The ``kring.v1.Federation`` servicer: the partner API.

Methods stay thin, like nameko entrypoints: authenticate the partner, read the request
(:mod:`.requests`), check the partner's scope, call a service within the call's deadline
(:mod:`.deadlines`), build the reply (:mod:`.messages`). They raise typed errors
(:mod:`services.common.errors`); the interceptor in :mod:`services.gateway.partner.server` turns those into
statuses and sets the correlation id.

Scope: the directory (networks, sessions) and who-knows-what are open to every partner; publishing,
retracting, reading and streaming feeds, and links are limited to the partner's own networks.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeAlias, TypeVar, cast

import grpc
from google.protobuf.message import Message

from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc
from services.common import metrics
from services.common.caller import Caller
from services.common.config import Settings
from services.common.errors import KEY_NETWORKS_CHANGED, Unavailable
from services.common.rpc_client import RpcCaller
from services.gateway.partner import messages as messages
from services.gateway.partner import requests as requests
from services.gateway.partner.auth import Partner, PartnerAuthenticator, bearer_key
from services.gateway.partner.deadlines import CallScope, CallSnapshot, PartnerCall
from services.gateway.partner.feed_hub import FeedFollower, FeedHub, LogReader
from services.gateway.partner.offload import LoopGuardedRpc, Offload
from services.gateway.partner.streams import OpenStreams
from services.gateway.shared import idempotency
from services.gateway.shared.edge_cache import MISSING, EdgeCache
from services.gateway.shared.version import API_VERSION, kring_version

log = logging.getLogger(__name__)

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Federation"].full_name

STREAMS_PER_PARTNER = 4
DIRECTORY_ENTRIES = 8192  # directory and feed pages the edge keeps (a page is a few KiB at most)
R = TypeVar("R", bound=Message)


# The feed hub reads the log of every network for all streams at once: on the gateway's own behalf.
AS_THE_GATEWAY = Caller.internal("gateway").wire()


class ServiceCall(Protocol):
    """A service's JSON answer to ``method(*args)``: :meth:`CallScope.call`, or the pool's within a timeout."""

    def __call__(self, service: str, method: str, /, *args: Any) -> Any: ...


def log_reader(call: ServiceCall, caller: dict[str, Any]) -> LogReader:
    """``log_after`` as ``caller`` through ``call(service, method, *args)``, each entry ready to send: its cursor,
    its network and ``item``, the ``FeedItem``'s bytes (:func:`ready_entries`). Read with ``outputs_once``: an output
    shared with many networks crosses the bus once per page, not once per network."""
    def read(cursor: int, network_ids: list[str] | None, limit: int) -> dict[str, Any]:
        query: dict[str, Any] = {"cursor": cursor, "limit": limit, "outputs_once": True}
        if network_ids is not None:
            query["network_ids"] = network_ids
        page: dict[str, Any] = call("federation", "log_after", caller, query)
        return {"entries": ready_entries(page), "next_cursor": page["next_cursor"]}
    return read


def ready_entries(page: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``log_after`` page's entries (each output in the page's ``outputs``, or in the entry itself), encoded once
    here for every stream they go to (:func:`messages.encoded_log_entries`)."""
    entries: list[dict[str, Any]] = page["entries"]
    outputs: dict[str, dict[str, Any]] | None = page.get("outputs")
    if outputs is not None:
        entries = [{**entry, "output": outputs[entry["output_id"]]} for entry in entries]
    return [{"cursor": entry["cursor"], "network_id": entry["network_id"], "item": item}
            for entry, item in zip(entries, messages.encoded_log_entries(entries), strict=True)]


class FederationServicer:
    """The methods of the API. Unary methods are plain functions of the request and the call (its metadata and
    deadline): :class:`AsyncFederation` runs them for the ``grpc.aio`` server, in the event loop when the edge
    caches answer them, in the pool when they call a service. ``StreamOutputs`` is asynchronous itself."""

    def __init__(self, settings: Settings, rpc: RpcCaller, *, partners: PartnerAuthenticator | None = None,
                 hub: FeedHub | None = None, streams: OpenStreams | None = None,
                 offload: Offload | None = None) -> None:
        self.settings = settings
        self.rpc = guarded = LoopGuardedRpc(rpc)  # never blocks the event loop (see .offload)
        self.offload = offload if offload is not None else Offload(settings.grpc_workers)
        # Streams read their scope and catch up through a pool of their own, a quarter the size: a thousand streams
        # (re)connecting at once queue there, not in front of unary calls.
        self.stream_work = Offload(max(1, settings.grpc_workers // 4), name="grpc-streams")
        self.partners = partners if partners is not None else PartnerAuthenticator(guarded.call)
        self.hub = hub if hub is not None else FeedHub(
            log_reader(lambda *args: guarded.call(*args, timeout=settings.rpc_timeout), AS_THE_GATEWAY),
            ready_carried=ready_entries)
        self.streams = streams if streams is not None else OpenStreams(settings.grpc_max_streams, STREAMS_PER_PARTNER)
        # Directory and feed pages, tagged with what they depend on (see _cached). Kept only while the change feed
        # is live (fallback 0): without events these reads go to their service every time, as they always did.
        self.directory: EdgeCache[Message] = EdgeCache("partner reads", fallback_ttl=0.0,
                                                       max_entries=DIRECTORY_ENTRIES)

    @property
    def caches(self) -> list[EdgeCache[Any]]:
        """What the gateway's change feed keeps fresh (:mod:`services.gateway.shared.changes`)."""
        return [self.partners.cache, self.directory]

    # --- open to anyone ----------------------------------------------------------------------------------------

    def GetInstance(self, request: pb.GetInstanceRequest, context: PartnerCall) -> pb.Instance:
        return pb.Instance(id=self.settings.instance_id, name=self.settings.instance_name, version=kring_version(),
                           api_version=API_VERSION)

    # --- the directory -------------------------------------------------------------------------------------------

    def ListNetworks(self, request: pb.ListNetworksRequest, context: PartnerCall) -> pb.ListNetworksResponse:
        calls, _ = self._begin(context)
        query = requests.list_networks(request)

        def ask() -> pb.ListNetworksResponse:
            page: dict[str, Any] = calls.call("networks", "list_networks", query)
            return pb.ListNetworksResponse(networks=[messages.network(n) for n in page["items"]],
                                           next_page_token=page.get("next_page_token") or "")
        return self._cached(f"networks?{json.dumps(query, sort_keys=True)}", ("networks",), ask)

    def GetNetwork(self, request: pb.GetNetworkRequest, context: PartnerCall) -> pb.Network:
        calls, _ = self._begin(context)
        network_id = requests.network_id(request.network_id)
        return self._cached(f"network/{network_id}", (f"network:{network_id}",),
                            lambda: messages.network(calls.call("networks", "get_network", network_id)))

    def ListSessions(self, request: pb.ListSessionsRequest, context: PartnerCall) -> pb.ListSessionsResponse:
        calls, partner = self._begin(context)
        query = requests.list_sessions(request)
        page: dict[str, Any] = calls.call("sessions", "list_sessions", partner.caller.wire(), query)
        if not page["items"] and "page_token" not in query:
            calls.call("networks", "get_network", query["network_id"])  # an unknown network is NOT_FOUND
        return pb.ListSessionsResponse(sessions=[messages.session(s) for s in page["items"]],
                                       next_page_token=page.get("next_page_token") or "")

    def FindExpertise(self, request: pb.FindExpertiseRequest,
                      context: PartnerCall) -> pb.FindExpertiseResponse:
        calls, _ = self._begin(context)
        page: dict[str, Any] = calls.call("members", "find_expertise", requests.expertise_query(request))
        return pb.FindExpertiseResponse(experts=[messages.expert(e) for e in page["items"]],
                                        next_page_token=page.get("next_page_token") or "")

    # --- the partner's own outputs and feeds -------------------------------------------------------------------

    def PublishOutput(self, request: pb.PublishOutputRequest,
                      context: PartnerCall) -> pb.PublishOutputResponse:
        calls, partner = self._begin(context)
        output = requests.partner_output(request)
        if partner.instance_id is not None and not partner.owns(output["network_id"]):
            # the origin check: another instance speaks only for the networks it hosts
            log.warning("instance %s (partner %s) tried to publish for network %s, which it does not host",
                        partner.instance_id, partner.partner_id, output["network_id"])
            metrics.FEDERATION_ORIGIN_REFUSALS.labels(peer=partner.instance_id).inc()
        result: dict[str, Any] = calls.call("federation", "publish_partner_output", partner.caller.wire(), output)
        return pb.PublishOutputResponse(output_id=result["output_id"], recipients=result["recipients"],
                                        retracted=result["retracted"])

    def RetractOutput(self, request: pb.RetractOutputRequest,
                      context: PartnerCall) -> pb.RetractOutputResponse:
        calls, partner = self._begin(context)
        result: dict[str, Any] = calls.call("federation", "retract_partner_output", partner.caller.wire(),
                                            requests.output_id(request.output_id))
        return pb.RetractOutputResponse(output_id=result["output_id"], retracted=result["retracted"])

    def ListOutputs(self, request: pb.ListOutputsRequest, context: PartnerCall) -> pb.ListOutputsResponse:
        calls, partner = self._begin(context)
        query = requests.feed_query(request)

        def ask() -> pb.ListOutputsResponse:
            page: dict[str, Any] = calls.call("federation", "feed", partner.caller.wire(), query)
            return pb.ListOutputsResponse(items=[messages.feed_page_item(i) for i in page["items"]],
                                          next_page_token=page.get("next_page_token") or "")
        # A page changes only with its network's feed log (deliveries, tombstones, attribution changes all
        # append to it), the network's standing (blocked) and the partner's (its networks, its key).
        network = query["network_id"]
        return self._cached(f"feed/{partner.partner_id}?{json.dumps(query, sort_keys=True)}",
                            (f"feed:{network}", f"network:{network}", f"partner:{partner.partner_id}"), ask)

    def ListPublishedOutputs(self, request: pb.ListPublishedOutputsRequest,
                             context: PartnerCall) -> pb.ListPublishedOutputsResponse:
        calls, partner = self._begin(context)
        page: dict[str, Any] = calls.call("federation", "published_outputs", partner.caller.wire(),
                                          requests.published_query(request))
        return pb.ListPublishedOutputsResponse(outputs=[messages.published_output(i) for i in page["items"]],
                                               next_page_token=page.get("next_page_token") or "")

    async def StreamOutputs(self, request: pb.StreamOutputsRequest, context: PartnerCall) -> AsyncIterator[bytes]:
        """Yields each ``FeedItem`` encoded (by the hub, once for every stream of its network, or by this stream's own
        catch-up reads): the partner server sends bytes as they are (see ``server.EdgeInterceptor``)."""
        call = CallSnapshot.of(context)
        calls, partner = await self.offload.cheap_first(lambda: self._begin(call))
        network_ids, cursor = requests.stream_request(request)
        # Which networks the stream covers is the federation service's answer; the hub passes on only these. A stream
        # of all the partner's networks covers those its key was authenticated with (what feed_scope answers such a
        # caller, and what still_allowed holds it to): no call, so a thousand streams reconnecting cost a thousand
        # service calls fewer.
        scope: list[str] = sorted(partner.network_ids) if not network_ids else await self.stream_work(
            lambda: calls.call("federation", "feed_scope", partner.caller.wire(), network_ids))
        key = bearer_key(call.invocation_metadata())

        async def still_allowed() -> None:  # a key revoked or a partner blocked mid-stream ends the stream
            try:
                now = await self.offload.cheap_first(lambda: self.partners.authenticate(key, timeout=calls.budget()))
            except Unavailable:
                return  # the federation service is away: keep the stream; its reads will tell
            if not network_ids and now.network_ids != partner.network_ids:
                # A stream of all the partner's networks, whose networks changed (another instance's network
                # approved here, or its approval withdrawn): end it so that the reconnection covers them.
                raise Unavailable(KEY_NETWORKS_CHANGED)

        follower = FeedFollower(self.hub, log_reader(calls.call, partner.caller.wire()), frozenset(scope), cursor,
                                tick=still_allowed, offload=self.stream_work)
        with self.streams.open(partner.partner_id, follower):
            async for batch in follower.batches():
                for entry in batch:
                    yield entry["item"]
        if self.streams.closing:
            raise Unavailable("the gateway is shutting down; reconnect with your last cursor")

    def GetFeedHead(self, request: pb.GetFeedHeadRequest, context: PartnerCall) -> pb.FeedHead:
        calls, partner = self._begin(context)
        network_ids, cursor = requests.stream_request(request)  # the same two fields, the same rules
        head: dict[str, Any] = calls.call("federation", "log_head", partner.caller.wire(),
                                          {"network_ids": network_ids, "cursor": cursor})
        return pb.FeedHead(cursor=str(head["head_cursor"]), pending=head["pending"])

    # --- links ---------------------------------------------------------------------------------------------------

    def RequestLink(self, request: pb.RequestLinkRequest, context: PartnerCall) -> pb.Link:
        calls, partner = self._begin(context)
        link_request = requests.link_request(request)
        with idempotency.keyed(self._keyed(partner, "RequestLink", request.request_id, request), "request_id"):
            answer: dict[str, Any] = calls.call("federation", "request_link", partner.caller.wire(), link_request)
        return messages.link(answer["link"])

    def GetLink(self, request: pb.GetLinkRequest, context: PartnerCall) -> pb.Link:
        calls, partner = self._begin(context)
        return messages.link(calls.call("federation", "get_link", partner.caller.wire(),
                                        requests.link_id(request.link_id)))

    # --- helpers -------------------------------------------------------------------------------------------------

    def _cached(self, key: str, topics: tuple[str, ...], ask: Callable[[], R]) -> R:
        """The directory's or feed's answer from the edge cache, asking the service only on a miss. Errors are
        not kept. Replies are shared between calls: nothing may change a message taken from here."""
        found = self.directory.get(key)
        if found is not MISSING:
            return cast(R, found)
        ticket = self.directory.ticket()
        answer = ask()
        self.directory.put(key, answer, topics, ticket)
        return answer

    def _begin(self, context: PartnerCall) -> tuple[CallScope, Partner]:
        calls = CallScope(self.rpc, context, self.settings.rpc_timeout)
        key = bearer_key(context.invocation_metadata())
        return calls, self.partners.authenticate(key, timeout=calls.budget())

    @staticmethod
    def _keyed(partner: Partner, method: str, key: str, request: Message) -> idempotency.KeyedRequest | None:
        """The partner's request with its ``request_id``, if it gave one (see :mod:`..shared.idempotency`)."""
        if not key:
            return None
        return idempotency.keyed_request(f"partner:{partner.partner_id}", idempotency.check_key(key, "request_id"),
                                         method, request.SerializeToString(deterministic=True).hex())


# Answered from the edge caches when they can be (and touching nothing before their first service call):
# tried in the event loop first. Every other unary method calls a service each time: straight to the pool.
ANSWERED_IN_LOOP = frozenset({"GetInstance", "ListNetworks", "GetNetwork", "ListOutputs"})
UNARY_METHODS = tuple(m.name for m in pb.DESCRIPTOR.services_by_name["Federation"].methods
                      if not m.server_streaming and not m.client_streaming)

UnaryBehaviour = Callable[[Any, PartnerCall], Message]
AsyncUnary: TypeAlias = "Callable[[Any, grpc.aio.ServicerContext[Any, Any]], Awaitable[Message]]"


class AsyncFederation:
    """``kring.v1.Federation`` as the ``grpc.aio`` server calls it: each unary method of
    :class:`FederationServicer` awaited (in the loop or the pool, see :data:`ANSWERED_IN_LOOP`) with a
    :class:`CallSnapshot` of its call; ``StreamOutputs`` as it is."""

    def __init__(self, federation: FederationServicer) -> None:
        self.federation = federation
        for name in UNARY_METHODS:
            setattr(self, name, self._unary(getattr(federation, name), in_loop=name in ANSWERED_IN_LOOP))
        self.StreamOutputs = federation.StreamOutputs

    def _unary(self, behaviour: UnaryBehaviour, *, in_loop: bool) -> AsyncUnary:
        offload = self.federation.offload

        async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Message:
            call = CallSnapshot.of(context)
            if in_loop:
                return await offload.cheap_first(lambda: behaviour(request, call))
            return await offload(lambda: behaviour(request, call))
        return unary

    def add_to(self, server: grpc.aio.Server) -> None:
        federation_pb2_grpc.add_FederationServicer_to_server(
            cast(federation_pb2_grpc.FederationServicer, self), server)
