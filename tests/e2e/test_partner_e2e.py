"""A partner organisation on the partner gRPC API, with the whole stack running as separate processes.

A Python client generated from proto/ plays the partners; the operator and network coordinators use the admin
API. The operator registers partners for networks it created, a partner lists the directory, requests a link
that the other side's coordinator accepts, publishes outputs, streams its feed, disconnects, reconnects with its
last cursor and receives exactly what it missed. A revoked key, another partner's network and bad input are
refused with the right status codes and field violations, never INTERNAL.

grpcio is safe in this process: tests/e2e/conftest.py refuses to run under eventlet's monkey patching.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.api.kring.v1 import federation_pb2 as pb
from tests.support.http import ok
from tests.support.naming import fresh_tag
from tests.support.partner_client import PartnerClient
from tests.support.waiting import eventually

ARRIVAL = 20.0  # seconds for an output to travel the event chain and reach a feed or stream


class Stream:
    """A StreamOutputs call read on its own thread; ``take`` waits for items, ``close`` hangs up."""

    def __init__(self, call):
        self.call = call
        self.items: queue.Queue = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for item in self.call:
                self.items.put(item)
        except grpc.RpcError as exc:
            self.items.put(exc)

    def take(self, n: int, timeout: float = ARRIVAL) -> list[pb.FeedItem]:
        taken, deadline = [], time.monotonic() + timeout
        while len(taken) < n:
            try:
                item = self.items.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"the stream sent {len(taken)} of {n} items within {timeout:g} s: {described(taken)}")
            if isinstance(item, grpc.RpcError):
                raise item
            taken.append(item)
        return taken

    def take_until(self, accept: Callable[[pb.FeedItem], bool], timeout: float = ARRIVAL) -> list[pb.FeedItem]:
        taken, deadline = [], time.monotonic() + timeout
        while not taken or not accept(taken[-1]):
            taken += self.take(1, max(0.1, deadline - time.monotonic()))
        return taken

    def nothing_more(self, wait: float = 1.0) -> None:
        time.sleep(wait)
        assert self.items.empty(), f"unexpected items: {described(list(self.items.queue))}"

    def close(self) -> None:
        self.call.cancel()
        self.thread.join(5)


def open_stream(partner: PartnerClient, cursor: str = "", network_ids: tuple[str, ...] = ()) -> Stream:
    """The partner's StreamOutputs from ``cursor``, read on its own thread."""
    return Stream(partner.stub.StreamOutputs(pb.StreamOutputsRequest(cursor=cursor, network_ids=network_ids),
                                             metadata=partner.metadata))


def described(items) -> list[tuple[str, str, str]]:
    return [(i.cursor, pb.FeedItemKind.Name(i.kind), i.output.output_id or i.tombstone.output_id)
            if isinstance(i, pb.FeedItem) else repr(i) for i in items]


def refused(call: Callable[[], Any]) -> tuple[grpc.StatusCode, set[tuple[str, str]]]:
    """The status code of a refused call and the (field, rule) pairs of its BadRequest detail."""
    with pytest.raises(grpc.RpcError) as caught:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    status = rpc_status.from_call(caught.value)
    found: set[tuple[str, str]] = set()
    for detail in status.details if status else ():
        bad_request = error_details_pb2.BadRequest()
        if detail.Unpack(bad_request):
            found |= {(v.field, v.reason) for v in bad_request.field_violations}
    return caught.value.code(), found


def create_network(operator: httpx.Client, name: str, theme: str, level: str = "regional") -> str:
    return ok(operator.post("/v1/networks", json={"name": name, "level": level, "kind": "werkplaats",
                                                  "theme": theme, "region": "Utrecht",
                                                  "host_organisation": "Movisie"}), 201)["id"]


def register_partner(operator: httpx.Client, name: str, network_id: str) -> dict:
    return ok(operator.post("/v1/partners", json={"name": name, "network_ids": [network_id]}), 201)


def coordinator_of(operator: httpx.Client, stack, network_id: str) -> httpx.Client:
    member = ok(operator.post("/v1/members", json={"name": "Karin Kwartiermaker", "perspectives": ["practitioner"],
                                                   "email": f"karin.{fresh_tag()}@example.org"}), 201)
    ok(operator.put(f"/v1/networks/{network_id}/members/{member['id']}", json={"role": "coordinator"}), 200)
    token = ok(operator.post(f"/v1/members/{member['id']}/tokens", json={"label": "e2e"}), 201)["token"]
    return stack.client(token)


def publish(partner: PartnerClient, network_id: str, client_output_id: str, visibility=pb.VISIBILITY_LINKED,
            **fields) -> pb.PublishOutputResponse:
    return partner.PublishOutput(pb.PublishOutputRequest(**{
        "network_id": network_id, "client_output_id": client_output_id, "kind": pb.OUTPUT_KIND_LESSON,
        "title": f"Les {client_output_id}", "body": "Wat we leerden.", "themes": ["eenzaamheid"],
        "visibility": visibility, "authors": ["een ervaringsdeskundige"], **fields}))


@dataclass
class World:
    tag: str
    operator: httpx.Client
    alpha: PartnerClient  # partner of network `a`
    beta: PartnerClient  # partner of network `b`, linked with `a`
    a: str
    b: str
    c: str  # the operator's network, with a coordinator of its own
    c_coordinator: httpx.Client
    target: str


@pytest.fixture(scope="module")
def world(stack) -> Iterator[World]:
    tag = fresh_tag()
    theme = f"partner e2e {tag}"
    with stack.client() as operator:
        a = create_network(operator, f"Werkplaats Noord {tag}", theme)
        b = create_network(operator, f"Werkplaats Zuid {tag}", theme)
        c = create_network(operator, f"BeterOud {tag}", theme, level="national")
        alpha = PartnerClient(stack.grpc, register_partner(operator, "Werkplaats Noord", a)["api_key"])
        beta = PartnerClient(stack.grpc, register_partner(operator, "Werkplaats Zuid", b)["api_key"])
        link = beta.RequestLink(pb.RequestLinkRequest(requester_network_id=b, target_network_id=a))
        ok(operator.post(f"/v1/links/{link.link_id}/accept"), 200)  # `a` has no coordinator: the operator answers
        with coordinator_of(operator, stack, c) as c_coordinator:
            yield World(tag, operator, alpha, beta, a, b, c, c_coordinator, stack.grpc)
        alpha.close()
        beta.close()


# --- the directory ---------------------------------------------------------------------------------------------


def test_a_partner_reads_the_instance_without_a_key_and_the_directory_with_one(world):
    anonymous = PartnerClient(world.target, None)
    assert anonymous.GetInstance(pb.GetInstanceRequest()).api_version == "kring.v1"
    assert refused(lambda: anonymous.ListNetworks(pb.ListNetworksRequest()))[0] == grpc.StatusCode.UNAUTHENTICATED
    anonymous.close()

    found = world.alpha.ListNetworks(pb.ListNetworksRequest(theme=world.tag, level=pb.NETWORK_LEVEL_REGIONAL))
    assert sorted(n.id for n in found.networks) == sorted([world.a, world.b])
    network = world.alpha.GetNetwork(pb.GetNetworkRequest(network_id=world.c))
    assert (network.level, network.kind, network.region, network.host_organisation, network.status) == (
        pb.NETWORK_LEVEL_NATIONAL, pb.NETWORK_KIND_WERKPLAATS, "Utrecht", "Movisie", pb.NETWORK_STATUS_ACTIVE)
    assert refused(lambda: world.alpha.GetNetwork(pb.GetNetworkRequest(network_id="no-such-network")))[0] == \
        grpc.StatusCode.NOT_FOUND


def test_a_partner_lists_a_networks_sessions_in_a_window_without_meeting_links(world):
    now = datetime.now(UTC)
    ok(world.operator.post(f"/v1/networks/{world.c}/sessions", json={
        "title": "Webinar eenzaamheid", "format": "webinar", "mode": "online",
        "meeting_url": "https://meet.example.org/geheim", "starts_at": (now + timedelta(days=2)).isoformat(),
        "ends_at": (now + timedelta(days=2, hours=1)).isoformat(), "capacity": 40}), 201)
    start = timestamp_pb2.Timestamp(seconds=int(now.timestamp()))
    window = pb.ListSessionsRequest(network_id=world.c, starts_from=start)
    [session] = world.alpha.ListSessions(window).sessions
    assert (session.title, session.mode, session.capacity, session.status) == (
        "Webinar eenzaamheid", pb.SESSION_MODE_ONLINE, 40, pb.SESSION_STATUS_PLANNED)
    assert "geheim" not in str(session)
    later = pb.ListSessionsRequest(network_id=world.c, starts_from=timestamp_pb2.Timestamp(
        seconds=int((now + timedelta(days=3)).timestamp())))
    assert list(world.alpha.ListSessions(later).sessions) == []


# --- links and publishing ----------------------------------------------------------------------------------------


def test_a_partner_requests_a_link_the_other_coordinator_accepts_and_its_output_reaches_that_networks_feed(world):
    ask = pb.RequestLinkRequest(requester_network_id=world.a, target_network_id=world.c,
                                policy=pb.SharingPolicy(visibilities=[pb.VISIBILITY_FEDERATION]))
    link = world.alpha.RequestLink(ask)
    assert (link.status, link.kind, list(link.requester_policy.visibilities)) == (
        pb.LINK_STATUS_REQUESTED, pb.LINK_KIND_PEER, [pb.VISIBILITY_FEDERATION])
    assert world.alpha.RequestLink(ask).link_id == link.link_id  # asking again changes nothing

    assert world.c_coordinator.post(f"/v1/links/{link.link_id}/accept").status_code == 200
    assert world.alpha.GetLink(pb.GetLinkRequest(link_id=link.link_id)).status == pb.LINK_STATUS_ACTIVE

    published = publish(world.alpha, world.a, f"verslag-{world.tag}", visibility=pb.VISIBILITY_FEDERATION)
    assert publish(world.alpha, world.a, f"verslag-{world.tag}").output_id == published.output_id  # idempotent
    feed = eventually(lambda: ok(world.c_coordinator.get(f"/v1/networks/{world.c}/feed"), 200)["items"],
                      "the partner's output in the linked network's feed",
                      accept=lambda items: published.output_id in [i["output"]["output_id"] for i in items])
    shared = next(i["output"] for i in feed if i["output"]["output_id"] == published.output_id)
    assert (shared["origin_network_id"], shared["authors"]) == (
        world.a, [{"shown_as": "een ervaringsdeskundige", "named": True, "role": None}])
    deliveries = ok(world.operator.get(f"/v1/outputs/{published.output_id}/deliveries"), 200)
    assert {d["network_id"] for d in deliveries["items"]} >= {world.c, world.b}


def test_a_partner_streams_its_feed_and_a_reconnect_with_its_cursor_gets_exactly_what_it_missed(world):
    first = publish(world.beta, world.b, f"een-{world.tag}")
    stream = open_stream(world.alpha)
    received = stream.take_until(lambda i: i.output.output_id == first.output_id)
    cursor = received[-1].cursor
    assert (received[-1].kind, received[-1].network_id, received[-1].output.origin_network_id) == (
        pb.FEED_ITEM_KIND_SHARED, world.a, world.b)
    stream.close()

    second = publish(world.beta, world.b, f"twee-{world.tag}")
    third = publish(world.beta, world.b, f"drie-{world.tag}")
    world.beta.RetractOutput(pb.RetractOutputRequest(output_id=first.output_id))

    resumed = open_stream(world.alpha, cursor=cursor)
    missed = resumed.take(3)
    assert [(pb.FeedItemKind.Name(i.kind), i.output.output_id or i.tombstone.output_id) for i in missed] == [
        ("FEED_ITEM_KIND_SHARED", second.output_id), ("FEED_ITEM_KIND_SHARED", third.output_id),
        ("FEED_ITEM_KIND_RETRACTED", first.output_id)]
    assert [int(i.cursor) for i in missed] == sorted(int(i.cursor) for i in missed)
    assert int(missed[0].cursor) > int(cursor)

    fourth = publish(world.beta, world.b, f"vier-{world.tag}")  # and live, after the catch-up
    assert resumed.take(1)[0].output.output_id == fourth.output_id
    resumed.nothing_more()
    resumed.close()


def test_an_output_from_a_session_of_a_linked_network_names_only_consenting_authors(world):
    link = world.alpha.RequestLink(pb.RequestLinkRequest(requester_network_id=world.a, target_network_id=world.c))
    if link.status == pb.LINK_STATUS_REQUESTED:  # not accepted by an earlier test
        ok(world.c_coordinator.post(f"/v1/links/{link.link_id}/accept"), 200)
    member = ok(world.operator.post("/v1/members", json={
        "name": "Henk Ervaring", "email": f"henk.{world.tag}@example.org", "perspectives": ["lived_experience"],
        "named_in_shared_outputs": False}), 201)
    ok(world.operator.put(f"/v1/networks/{world.c}/members/{member['id']}", json={"role": "participant"}), 200)
    now = datetime.now(UTC)
    session = ok(world.operator.post(f"/v1/networks/{world.c}/sessions", json={
        "title": "Leersessie", "format": "learning_session", "mode": "in_person", "location": "Buurthuis",
        "starts_at": (now - timedelta(hours=3)).isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat()}), 201)
    ok(world.operator.post(f"/v1/sessions/{session['id']}/hold"), 200)
    output = ok(world.operator.post(f"/v1/sessions/{session['id']}/outputs", json={
        "kind": "lesson", "title": "Vraag eerst wat iemand zelf wil", "authors": [member["id"]],
        "visibility": "linked"}), 201)

    def alphas_feed() -> list[pb.FeedItem]:
        return list(world.alpha.ListOutputs(pb.ListOutputsRequest(network_id=world.a, page_size=200)).items)

    items = eventually(alphas_feed,
                       "the session's output in the partner's feed",
                       accept=lambda items: output["id"] in [i.output.output_id for i in items])
    shared = next(i.output for i in items if i.output.output_id == output["id"])
    assert [(a.shown_as, a.named) for a in shared.authors] == [("a participant with lived experience", False)]
    assert "Henk" not in str(shared)


# --- refusals ----------------------------------------------------------------------------------------------------


def test_a_revoked_key_is_unauthenticated_at_once_and_a_rotated_key_replaces_it(world, stack):
    network = create_network(world.operator, f"Gemeente {world.tag}", f"partner e2e {world.tag}")
    registered = register_partner(world.operator, "Gemeente", network)
    gamma = PartnerClient(stack.grpc, registered["api_key"])
    assert gamma.ListNetworks(pb.ListNetworksRequest(theme=world.tag)).networks
    ok(world.operator.post(f"/v1/partners/{registered['partner_id']}/revoke"), 200)
    assert refused(lambda: gamma.ListNetworks(pb.ListNetworksRequest()))[0] == grpc.StatusCode.UNAUTHENTICATED
    rotated = ok(world.operator.post(f"/v1/partners/{registered['partner_id']}/rotate-key"), 201)
    assert refused(lambda: gamma.ListNetworks(pb.ListNetworksRequest()))[0] == grpc.StatusCode.UNAUTHENTICATED
    gamma.key = rotated["api_key"]
    assert gamma.ListNetworks(pb.ListNetworksRequest(theme=world.tag)).networks
    ok(world.operator.post(f"/v1/partners/{registered['partner_id']}/block", json={"reason": "e2e"}), 200)
    assert refused(lambda: gamma.ListNetworks(pb.ListNetworksRequest()))[0] == grpc.StatusCode.PERMISSION_DENIED
    gamma.close()


def test_another_partners_network_is_permission_denied_naming_the_field_and_rule_own_network(world):
    for call, field in ((lambda: publish(world.alpha, world.b, "nope"), "network_id"),
                        (lambda: world.alpha.ListOutputs(pb.ListOutputsRequest(network_id=world.b)), "network_id"),
                        (lambda: world.alpha.StreamOutputs(pb.StreamOutputsRequest(network_ids=[world.a, world.b])),
                         "network_ids.1"),
                        (lambda: world.alpha.RequestLink(pb.RequestLinkRequest(requester_network_id=world.b,
                                                                               target_network_id=world.c)),
                         "requester_network_id")):
        assert refused(call) == (grpc.StatusCode.PERMISSION_DENIED, {(field, "own_network")})
    assert refused(lambda: world.alpha.ListOutputs(pb.ListOutputsRequest(network_id="no-such-network")))[0] == \
        grpc.StatusCode.NOT_FOUND


def test_bad_input_is_invalid_argument_naming_each_field_never_internal(world):
    assert refused(lambda: publish(world.alpha, world.a, "bad", visibility=42, title="x" * 301)) == (
        grpc.StatusCode.INVALID_ARGUMENT, {("visibility", "known_value"), ("title", "string_too_long")})
    assert refused(lambda: world.alpha.PublishOutput(pb.PublishOutputRequest(network_id=world.a))) == (
        grpc.StatusCode.INVALID_ARGUMENT, {("client_output_id", "required"), ("kind", "required"),
                                           ("title", "required"), ("visibility", "required")})
    assert refused(lambda: world.alpha.StreamOutputs(pb.StreamOutputsRequest(cursor="yesterday"))) == (
        grpc.StatusCode.INVALID_ARGUMENT, {("cursor", "valid_cursor")})
    assert refused(lambda: world.alpha.ListNetworks(pb.ListNetworksRequest(kind=99, page_size=-1))) == (
        grpc.StatusCode.INVALID_ARGUMENT, {("kind", "known_value"), ("page_size", "greater_than_equal")})
    too_big = refused(lambda: publish(world.alpha, world.a, "big", body="x" * (2 * 1024 * 1024)))
    assert too_big[0] == grpc.StatusCode.RESOURCE_EXHAUSTED  # over the server's 1 MiB message limit


def test_find_expertise_finds_only_members_who_consented(world):
    tag = f"e2e{world.tag}"
    for name, consent in (("Fatima Vindbaar", True), ("Joost Verborgen", False)):
        ok(world.operator.post("/v1/members", json={
            "name": name, "email": f"{name.split()[0].lower()}.{world.tag}@example.org",
            "perspectives": ["practitioner"], "organisation": "Buurtteam", "expertise": [tag],
            "findable_by_expertise": consent}), 201)
    [expert] = world.alpha.FindExpertise(pb.FindExpertiseRequest(tag=tag)).experts
    assert (expert.name, expert.organisation, list(expert.expertise), list(expert.perspectives)) == (
        "Fatima Vindbaar", "Buurtteam", [tag], [pb.PERSPECTIVE_PRACTITIONER])
    assert "@" not in str(expert)
