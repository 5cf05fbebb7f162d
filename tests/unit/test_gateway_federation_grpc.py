"""The partner gRPC API's servicer against hand-written fakes of the services: who may call what, what each
reply shows (public fields only), which typed error (and so which status code) each refusal is, deadlines,
and streams. The errors' mapping to status codes with rich details is tested in test_gateway_errors.py and,
for streams, here."""

from __future__ import annotations

import asyncio
import threading
import time
from types import SimpleNamespace

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2, status_pb2

from services.api.kring.v1 import federation_pb2 as pb
from services.common import metrics
from services.common.config import Settings
from services.common.errors import (
    KringError,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)
from services.gateway.partner.errors import DeadlineExceeded, grpc_code
from services.gateway.partner.feed_hub import FeedHub
from services.gateway.partner.server import EdgeInterceptor
from services.gateway.partner.servicer import AS_THE_GATEWAY, FederationServicer, log_reader
from services.gateway.partner.streams import OpenStreams
from services.gateway.shared import idempotency
from tests.support.aio import Consumer, collect, driven
from tests.support.callers import OPERATOR_WIRE as OPERATOR
from tests.unit.federation_fakes import Aborted, FakeContext, FakeExperts, FakeFederation
from tests.unit.gateway_fakes import FakeNetworks, FakeServices, FakeSessions

ALPHA, BETA = "kpk_alpha", "kpk_beta"


@pytest.fixture
def networks():
    fake = FakeNetworks()
    fake.add("wijk-noord", "neighbourhood", kind="learning_circle", theme="Loneliness in Noord", region="Utrecht",
             urgency="private notes of the coordinators", host_organisation="Buurtteam Noord")
    fake.add("werkplaats-zuid", "regional", kind="werkplaats", theme="Poverty")
    fake.add("beteroud", "national", kind="community_of_practice", theme="Growing old well")
    return fake


@pytest.fixture
def federation(networks):
    fake = FakeFederation(networks)
    fake.add_partner("alpha", ["wijk-noord"])
    fake.add_partner("beta", ["werkplaats-zuid"])
    return fake


@pytest.fixture
def sessions():
    return FakeSessions()


@pytest.fixture
def experts():
    return FakeExperts([
        {"name": "Fatima El Amrani", "organisation": "Buurtteam Noord", "expertise": ["eenzaamheid", "mantelzorg"],
         "perspectives": ["practitioner", "lived_experience"]},
    ])


@pytest.fixture
def hub(federation):
    # The log as the gateway reads it: with each output once, every entry encoded once for all its streams.
    hub = FeedHub(log_reader(lambda service, method, *args: federation.call(service, method, *args),
                             AS_THE_GATEWAY), interval=0.01)
    yield hub
    hub.stop()


@pytest.fixture
def servicer(networks, federation, sessions, experts, hub):
    services = FakeServices(networks=networks, federation=federation, sessions=sessions, members=experts)
    return FederationServicer(Settings(instance_id="kring-test", rpc_timeout=10.0), services, hub=hub,
                              streams=OpenStreams(limit=4, per_partner=2))


def fields_of(message) -> set[str]:
    return {field.name for field, _ in message.ListFields()}


def violations(error: ValidationFailed) -> set[tuple[str, str]]:
    return {(v["field"], v["rule"]) for v in error.violations}


def raises(error_type, call, *args):
    with pytest.raises(error_type) as caught:
        call(*args)
    return caught.value


PARTNER_METHODS = [
    ("ListNetworks", pb.ListNetworksRequest()),
    ("GetNetwork", pb.GetNetworkRequest(network_id="beteroud")),
    ("ListSessions", pb.ListSessionsRequest(network_id="beteroud")),
    ("PublishOutput", pb.PublishOutputRequest()),
    ("RetractOutput", pb.RetractOutputRequest(output_id="o1")),
    ("ListOutputs", pb.ListOutputsRequest(network_id="wijk-noord")),
    ("RequestLink", pb.RequestLinkRequest()),
    ("GetLink", pb.GetLinkRequest(link_id="l1")),
    ("FindExpertise", pb.FindExpertiseRequest(tag="eenzaamheid")),
    ("ListPublishedOutputs", pb.ListPublishedOutputsRequest()),
]


def call(servicer, method, request, context):
    result = getattr(servicer, method)(request, context)
    return collect(result) if method == "StreamOutputs" else result


# --- authentication and scope ------------------------------------------------------------------------------


def test_get_instance_needs_no_key(servicer):
    instance = servicer.GetInstance(pb.GetInstanceRequest(), FakeContext())
    assert (instance.id, instance.api_version) == ("kring-test", "kring.v1")


@pytest.mark.parametrize(("method", "request_"), [*PARTNER_METHODS, ("StreamOutputs", pb.StreamOutputsRequest())])
def test_every_other_method_without_a_key_is_unauthenticated_and_asks_no_service(servicer, federation, method,
                                                                                 request_):
    raises(Unauthenticated, call, servicer, method, request_, FakeContext())
    assert federation.calls == []


@pytest.mark.parametrize(("method", "request_"), PARTNER_METHODS)
def test_a_revoked_key_is_unauthenticated_and_a_blocked_partner_permission_denied(servicer, federation, method,
                                                                                  request_):
    federation.revoke_partner(OPERATOR, "alpha")
    raises(Unauthenticated, call, servicer, method, request_, FakeContext(ALPHA))
    federation.block_partner(OPERATOR, "beta")
    raises(PermissionDenied, call, servicer, method, request_, FakeContext(BETA))


@pytest.mark.parametrize(("method", "request_"), [
    ("PublishOutput", pb.PublishOutputRequest(network_id="werkplaats-zuid", client_output_id="c1", title="T",
                                              kind=pb.OUTPUT_KIND_LESSON, visibility=pb.VISIBILITY_LINKED)),
    ("ListOutputs", pb.ListOutputsRequest(network_id="werkplaats-zuid")),
    ("StreamOutputs", pb.StreamOutputsRequest(network_ids=["wijk-noord", "werkplaats-zuid"])),
    ("RequestLink", pb.RequestLinkRequest(requester_network_id="werkplaats-zuid", target_network_id="beteroud")),
])
def test_another_partners_network_is_permission_denied_naming_the_field(servicer, federation, method, request_):
    error = raises(PermissionDenied, call, servicer, method, request_, FakeContext(ALPHA))
    assert {v["rule"] for v in error.violations} == {"own_network"}
    assert federation.writes() == []


@pytest.mark.parametrize(("method", "request_"), [
    ("PublishOutput", pb.PublishOutputRequest(network_id="no-such-network", client_output_id="c1", title="T",
                                              kind=pb.OUTPUT_KIND_LESSON, visibility=pb.VISIBILITY_LINKED)),
    ("ListOutputs", pb.ListOutputsRequest(network_id="no-such-network")),
    ("StreamOutputs", pb.StreamOutputsRequest(network_ids=["no-such-network"])),
    ("GetNetwork", pb.GetNetworkRequest(network_id="no-such-network")),
    ("ListSessions", pb.ListSessionsRequest(network_id="no-such-network")),
    ("GetLink", pb.GetLinkRequest(link_id="no-such-link")),
    ("RetractOutput", pb.RetractOutputRequest(output_id="no-such-output")),
])
def test_an_unknown_id_is_not_found(servicer, method, request_):
    raises(NotFound, call, servicer, method, request_, FakeContext(ALPHA))


# --- the directory ---------------------------------------------------------------------------------------------


def test_the_directory_shows_public_fields_only(servicer):
    network = servicer.GetNetwork(pb.GetNetworkRequest(network_id="wijk-noord"), FakeContext(ALPHA))
    assert (network.name, network.level, network.kind, network.region, network.host_organisation) == (
        "Wijk Noord", pb.NETWORK_LEVEL_NEIGHBOURHOOD, pb.NETWORK_KIND_LEARNING_CIRCLE, "Utrecht", "Buurtteam Noord")
    assert not network.HasField("parent_id")
    assert set(pb.Network.DESCRIPTOR.fields_by_name) == {
        "id", "name", "level", "kind", "theme", "region", "host_organisation", "parent_id", "status"}


def test_list_networks_filters_by_level_kind_and_theme(servicer, networks):
    reply = servicer.ListNetworks(pb.ListNetworksRequest(level=pb.NETWORK_LEVEL_REGIONAL, theme="poverty",
                                                         page_size=10), FakeContext(ALPHA))
    assert [n.id for n in reply.networks] == ["werkplaats-zuid"]
    assert networks.calls[-1] == ("list_networks", {"level": "regional", "theme": "poverty", "page_size": 10,
                                                    "status": "active"})


@pytest.mark.parametrize(("request_", "expected"), [
    (pb.ListNetworksRequest(level=99), {("level", "known_value")}),
    (pb.ListNetworksRequest(kind=-1, page_size=500), {("kind", "known_value"), ("page_size", "less_than_equal")}),
    (pb.ListNetworksRequest(theme="x" * 101), {("theme", "string_too_long")}),
])
def test_a_bad_directory_filter_is_invalid_argument_naming_each_field(servicer, request_, expected):
    assert violations(raises(ValidationFailed, servicer.ListNetworks, request_, FakeContext(ALPHA))) == expected


def test_sessions_are_listed_in_a_window_without_meeting_links_contributions_or_people(servicer, sessions):
    sessions.add_session("beteroud", location="Buurthuis De Kroon", capacity=20,
                         contributions=[{"member_id": "m-1", "topic": "Mantelzorg"}])
    start = timestamp_pb2.Timestamp(seconds=1_767_225_600)
    reply = servicer.ListSessions(pb.ListSessionsRequest(network_id="beteroud", starts_from=start),
                                  FakeContext(ALPHA))
    [session] = reply.sessions
    assert (session.title, session.mode, session.location, session.capacity) == (
        "Kenniscafé", pb.SESSION_MODE_ONLINE, "Buurthuis De Kroon", 20)
    assert set(pb.Session.DESCRIPTOR.fields_by_name) == {
        "id", "network_id", "title", "format", "mode", "location", "starts_at", "ends_at", "status", "capacity"}
    assert sessions.calls[-1][1]["starts_from"].startswith("2026-01-01T00:00:00")


def test_find_expertise_finds_consenting_members_without_email_or_id(servicer, experts):
    reply = servicer.FindExpertise(pb.FindExpertiseRequest(tag="Eenzaamheid"), FakeContext(ALPHA))
    [expert] = reply.experts
    assert (expert.name, expert.organisation, list(expert.perspectives)) == (
        "Fatima El Amrani", "Buurtteam Noord", [pb.PERSPECTIVE_PRACTITIONER, pb.PERSPECTIVE_LIVED_EXPERIENCE])
    assert experts.calls == [("find_expertise", {"tag": "eenzaamheid", "page_size": 50})]
    assert set(pb.Expert.DESCRIPTOR.fields_by_name) == {"name", "organisation", "expertise", "perspectives"}


def test_find_expertise_needs_a_tag(servicer):
    error = raises(ValidationFailed, servicer.FindExpertise, pb.FindExpertiseRequest(), FakeContext(ALPHA))
    assert violations(error) == {("tag", "required")}


# --- outputs ---------------------------------------------------------------------------------------------------


def publish(**fields) -> pb.PublishOutputRequest:
    return pb.PublishOutputRequest(**{"network_id": "wijk-noord", "client_output_id": "intake-2026-03",
                                      "kind": pb.OUTPUT_KIND_LESSON, "title": "Wat we leerden",
                                      "visibility": pb.VISIBILITY_FEDERATION, "themes": ["eenzaamheid"],
                                      "authors": ["een ervaringsdeskundige"], **fields})


def test_publishing_sends_the_validated_output_with_the_vocabularys_values(servicer, federation):
    reply = servicer.PublishOutput(publish(resource_type=pb.RESOURCE_TYPE_LINK, url="https://example.org/x"),
                                   FakeContext(ALPHA))
    assert reply.output_id == "p-alpha-intake-2026-03"
    method, sent = federation.calls[-1]
    assert (method, federation.callers[-1]["partner_id"]) == ("publish_partner_output", "alpha")
    assert (sent["kind"], sent["visibility"], sent["resource_type"], sent["licence"], sent["authors"]) == (
        "lesson", "federation", "link", "CC-BY-4.0", ["een ervaringsdeskundige"])


def test_publishing_again_with_the_same_client_output_id_returns_the_same_output(servicer, federation):
    first = servicer.PublishOutput(publish(), FakeContext(ALPHA))
    again = servicer.PublishOutput(publish(title="Edited"), FakeContext(ALPHA))
    assert again.output_id == first.output_id
    assert len([r for r in federation.log.rows if r["output_id"] == first.output_id]) == 0  # no links: no copies


def test_a_partner_lists_what_it_published_in_its_current_state_through_the_federation_service(servicer,
                                                                                                federation):
    first = servicer.PublishOutput(publish(), FakeContext(ALPHA)).output_id
    second = servicer.PublishOutput(publish(client_output_id="verslag-2"), FakeContext(ALPHA)).output_id
    servicer.RetractOutput(pb.RetractOutputRequest(output_id=second), FakeContext(ALPHA))
    servicer.PublishOutput(publish(network_id="werkplaats-zuid", client_output_id="van-beta"), FakeContext(BETA))
    reply = servicer.ListPublishedOutputs(pb.ListPublishedOutputsRequest(network_id="wijk-noord", page_size=10),
                                          FakeContext(ALPHA))
    assert [(o.WhichOneof("content"), o.output.output_id or o.tombstone.output_id) for o in reply.outputs] == [
        ("output", first), ("tombstone", second)]
    assert federation.calls[-1] == ("published_outputs", {"network_id": "wijk-noord", "page_size": 10})
    error = raises(ValidationFailed, servicer.ListPublishedOutputs, pb.ListPublishedOutputsRequest(page_size=201),
                   FakeContext(ALPHA))
    assert violations(error) == {("page_size", "less_than_equal")}


@pytest.mark.parametrize(("request_", "expected"), [
    (publish(kind=pb.OUTPUT_KIND_UNSPECIFIED), {("kind", "required")}),
    (publish(kind=42), {("kind", "known_value")}),
    (publish(visibility=pb.VISIBILITY_UNSPECIFIED), {("visibility", "required")}),
    (publish(resource_type=7), {("resource_type", "known_value")}),
    (publish(title="x" * 301), {("title", "string_too_long")}),
    (publish(title="   "), {("title", "string_too_short")}),
    (publish(body="x" * 20_001), {("body", "string_too_long")}),
    (publish(url="ftp://example.org"), {("url", "string_pattern_mismatch")}),
    (publish(themes=["x" * 61]), {("themes.0", "string_too_long")}),
    (publish(authors=["a"] * 21), {("authors", "too_long")}),
    (publish(client_output_id="", title=""), {("client_output_id", "required"), ("title", "required")}),
    (publish(kind=42, title="x" * 301, network_id="no spaces"),
     {("kind", "known_value"), ("title", "string_too_long"), ("network_id", "string_pattern_mismatch")}),
])
def test_bad_output_fields_are_invalid_argument_each_named_with_its_rule(servicer, federation, request_, expected):
    assert violations(raises(ValidationFailed, servicer.PublishOutput, request_, FakeContext(ALPHA))) == expected
    assert federation.writes() == []


def test_a_partner_retracts_its_own_output_but_not_another_partners(servicer, federation):
    federation.add_link("wijk-noord", "werkplaats-zuid", status="active")
    output_id = servicer.PublishOutput(publish(), FakeContext(ALPHA)).output_id
    raises(PermissionDenied, servicer.RetractOutput, pb.RetractOutputRequest(output_id=output_id), FakeContext(BETA))
    reply = servicer.RetractOutput(pb.RetractOutputRequest(output_id=output_id), FakeContext(ALPHA))
    assert (reply.output_id, reply.retracted) == (output_id, True)


def test_a_feed_page_shows_each_output_once_in_its_current_state(servicer, federation):
    federation.share("o-1", "beteroud", ["wijk-noord"], title="Eerste les")
    federation.share("o-2", "beteroud", ["wijk-noord", "werkplaats-zuid"])
    federation.retract("o-2")
    reply = servicer.ListOutputs(pb.ListOutputsRequest(network_id="wijk-noord"), FakeContext(ALPHA))
    assert [(i.cursor, i.kind, i.WhichOneof("content")) for i in reply.items] == [
        ("1", pb.FEED_ITEM_KIND_SHARED, "output"), ("2", pb.FEED_ITEM_KIND_RETRACTED, "tombstone")]
    first = reply.items[0].output
    assert (first.title, first.origin_network_id, [a.shown_as for a in first.authors]) == (
        "Eerste les", "beteroud", ["a participant with lived experience"])
    assert reply.items[1].tombstone.output_id == "o-2"


# --- links -----------------------------------------------------------------------------------------------------


def test_a_partner_requests_a_link_from_its_network_with_a_policy(servicer, federation):
    link = servicer.RequestLink(pb.RequestLinkRequest(
        requester_network_id="wijk-noord", target_network_id="beteroud",
        policy=pb.SharingPolicy(visibilities=[pb.VISIBILITY_FEDERATION], themes=["Eenzaamheid"])),
        FakeContext(ALPHA))
    assert (link.status, link.kind, link.requester_network_id) == (
        pb.LINK_STATUS_REQUESTED, pb.LINK_KIND_PEER, "wijk-noord")
    assert list(link.requester_policy.visibilities) == [pb.VISIBILITY_FEDERATION]
    assert federation.calls[-1][1]["policy"] == {"visibilities": ["federation"], "themes": ["eenzaamheid"]}


@pytest.mark.parametrize(("policy", "expected"), [
    (pb.SharingPolicy(visibilities=[pb.VISIBILITY_UNSPECIFIED]), {("policy.visibilities.0", "required")}),
    (pb.SharingPolicy(visibilities=[pb.VISIBILITY_LINKED, 9]), {("policy.visibilities.1", "known_value")}),
    (pb.SharingPolicy(visibilities=[pb.VISIBILITY_LINKED], themes=["t"] * 21), {("policy.themes", "too_long")}),
])
def test_a_bad_link_policy_is_invalid_argument(servicer, policy, expected):
    request = pb.RequestLinkRequest(requester_network_id="wijk-noord", target_network_id="beteroud", policy=policy)
    assert violations(raises(ValidationFailed, servicer.RequestLink, request, FakeContext(ALPHA))) == expected


class KeyRecorder:
    """Between the servicer and the fakes: records the request id each call would carry (as the RPC pool does)."""

    def __init__(self, services: FakeServices) -> None:
        self.services = services
        self.sent: list[tuple[str, tuple[str, str] | None]] = []

    def call(self, service, method, *args, timeout=None):
        self.sent.append((method, idempotency.next_request(service, method)))
        return self.services.call(service, method, *args, timeout=timeout)


def test_a_link_request_with_a_request_id_is_sent_as_that_partners_keyed_request(networks, federation, hub):
    recorder = KeyRecorder(FakeServices(networks=networks, federation=federation))
    servicer = FederationServicer(Settings(instance_id="kring-test"), recorder, hub=hub)
    request = pb.RequestLinkRequest(requester_network_id="wijk-noord", target_network_id="beteroud",
                                    request_id="0b6c1c1e-link-1")
    servicer.RequestLink(request, FakeContext(ALPHA))
    servicer.RequestLink(request, FakeContext(ALPHA))
    request.target_network_id = "werkplaats-zuid"
    servicer.RequestLink(request, FakeContext(ALPHA))

    sent = [key for method, key in recorder.sent if method == "request_link"]
    assert sent[0] is not None and sent[0] == sent[1]  # a retry: the same request, applied once by the service
    assert sent[2][0] == sent[0][0] and sent[2][1] != sent[0][1]  # the same id for another request: refused there
    assert idempotency.next_request("federation", "request_link") is None  # the key ends with the call


def test_a_link_request_without_a_request_id_carries_none(networks, federation, hub):
    recorder = KeyRecorder(FakeServices(networks=networks, federation=federation))
    servicer = FederationServicer(Settings(instance_id="kring-test"), recorder, hub=hub)
    servicer.RequestLink(pb.RequestLinkRequest(requester_network_id="wijk-noord", target_network_id="beteroud"),
                         FakeContext(ALPHA))
    assert [key for method, key in recorder.sent if method == "request_link"] == [None]


def test_a_malformed_request_id_is_invalid_argument_naming_it(servicer):
    request = pb.RequestLinkRequest(requester_network_id="wijk-noord", target_network_id="beteroud",
                                    request_id="met spatie")
    assert violations(raises(ValidationFailed, servicer.RequestLink, request, FakeContext(ALPHA))) == {
        ("request_id", "idempotency_key")}


def test_a_partner_reads_only_links_that_involve_its_networks(servicer, federation):
    mine = federation.add_link("wijk-noord", "beteroud")
    theirs = federation.add_link("werkplaats-zuid", "beteroud")
    assert servicer.GetLink(pb.GetLinkRequest(link_id=mine["link_id"]), FakeContext(ALPHA)).link_id == "l1"
    raises(PermissionDenied, servicer.GetLink, pb.GetLinkRequest(link_id=theirs["link_id"]), FakeContext(ALPHA))


# --- deadlines -------------------------------------------------------------------------------------------------


def test_service_calls_get_the_time_the_callers_deadline_leaves_when_shorter_than_the_configured_timeout(
        servicer, federation, networks):
    federation.share("o-1", "beteroud", ["wijk-noord"])
    servicer.ListOutputs(pb.ListOutputsRequest(network_id="wijk-noord"), FakeContext(ALPHA, time_remaining=0.5))
    assert federation.timeouts == [0.5, 0.5]  # authenticate_partner, feed
    servicer.ListOutputs(pb.ListOutputsRequest(network_id="wijk-noord"), FakeContext(ALPHA, time_remaining=60))
    assert federation.timeouts[-1] == 10.0


def test_a_call_whose_deadline_passed_asks_no_service(servicer, federation):
    raises(DeadlineExceeded, servicer.ListNetworks, pb.ListNetworksRequest(), FakeContext(ALPHA, time_remaining=0))
    assert federation.calls == []
    assert grpc_code(DeadlineExceeded("late")) == grpc.StatusCode.DEADLINE_EXCEEDED


# --- streams ---------------------------------------------------------------------------------------------------


class StreamRun(Consumer):
    """StreamOutputs in a task of an event loop of its own, as the grpc.aio server runs it; ``cancel()`` plays a
    client that hangs up."""

    def __init__(self, servicer, request, context):
        self.context = context
        super().__init__(servicer.StreamOutputs(request, context), expected=(KringError, Aborted))

    def wait_for(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.items) < n and self.alive and time.monotonic() < deadline:
            time.sleep(0.005)
        items = [pb.FeedItem.FromString(i) for i in self.items]  # sent as the hub encoded them
        return [(i.cursor, i.kind, i.output.output_id or i.tombstone.output_id) for i in items]

    def end(self, timeout=5.0):
        assert self.join(timeout), "the stream did not end"
        return self.error


def test_a_stream_sends_the_partners_feed_after_its_cursor_then_live_items(servicer, federation):
    federation.share("o-1", "beteroud", ["wijk-noord"])
    federation.share("o-2", "beteroud", ["werkplaats-zuid"])  # not alpha's
    federation.share("o-3", "beteroud", ["wijk-noord"])
    run = StreamRun(servicer, pb.StreamOutputsRequest(cursor="1"), FakeContext(ALPHA))
    assert run.wait_for(1) == [("3", pb.FEED_ITEM_KIND_SHARED, "o-3")]
    federation.retract("o-3")
    assert run.wait_for(2)[1:] == [("4", pb.FEED_ITEM_KIND_RETRACTED, "o-3")]
    run.cancel()
    assert run.end() is None


def test_a_stream_of_all_its_networks_covers_its_keys_networks_without_asking_the_federation(servicer, federation):
    """feed_scope answers a partner asking for no network with its own networks, which its key already says: a
    thousand streams reconnecting are a thousand calls fewer. A stream naming networks is still checked there."""
    asked = []
    call = federation.call

    def recording(service, method, *args, timeout=None):
        if method == "feed_scope":
            asked.append(args[1])
        return call(service, method, *args, timeout=timeout)

    federation.call = recording
    federation.share("o-1", "beteroud", ["wijk-noord"])
    federation.share("o-2", "beteroud", ["werkplaats-zuid"])  # not alpha's
    run = StreamRun(servicer, pb.StreamOutputsRequest(), FakeContext(ALPHA))
    assert run.wait_for(1) == [("1", pb.FEED_ITEM_KIND_SHARED, "o-1")]
    run.cancel()
    run.end()
    named = StreamRun(servicer, pb.StreamOutputsRequest(network_ids=["wijk-noord"]), FakeContext(ALPHA))
    assert named.wait_for(1) == [("1", pb.FEED_ITEM_KIND_SHARED, "o-1")]
    named.cancel()
    named.end()
    assert asked == [["wijk-noord"]]  # only the stream that named its networks


def test_a_client_hanging_up_ends_the_stream_promptly_and_frees_its_slot(servicer):
    gauge = metrics.PARTNER_STREAMS_OPEN._value.get()
    run = StreamRun(servicer, pb.StreamOutputsRequest(), FakeContext(ALPHA))
    deadline = time.monotonic() + 5
    while len(servicer.streams) == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert metrics.PARTNER_STREAMS_OPEN._value.get() == gauge + 1
    started = time.monotonic()
    run.cancel()
    run.end()
    assert time.monotonic() - started < 1.0
    assert len(servicer.streams) == 0
    assert metrics.PARTNER_STREAMS_OPEN._value.get() == gauge


def test_an_invalid_cursor_is_invalid_argument(servicer):
    for cursor in ("abc", "-1", "1.5", "99999999999999999999"):
        error = raises(ValidationFailed, call, servicer, "StreamOutputs", pb.StreamOutputsRequest(cursor=cursor),
                       FakeContext(ALPHA))
        assert violations(error) == {("cursor", "valid_cursor")}


def test_a_key_revoked_mid_stream_ends_the_stream_unauthenticated(servicer, federation):
    run = StreamRun(servicer, pb.StreamOutputsRequest(), FakeContext(ALPHA))
    federation.share("o-1", "beteroud", ["wijk-noord"])
    run.wait_for(1)
    federation.revoke_partner(OPERATOR, "alpha")
    servicer.partners.cache.changed("partner:alpha")  # what the change feed does on partner.revoked
    assert isinstance(run.end(), Unauthenticated)


def test_a_stream_of_all_its_networks_ends_unavailable_when_the_keys_networks_change(servicer, federation):
    """Another instance's network approved here: the instance's stream reconnects to cover it."""
    run = StreamRun(servicer, pb.StreamOutputsRequest(), FakeContext(ALPHA))
    federation.share("o-1", "beteroud", ["wijk-noord"])
    run.wait_for(1)
    federation.partners["alpha"]["network_ids"] = sorted([*federation.partners["alpha"]["network_ids"], "x-1"])
    servicer.partners.cache.changed("partner:alpha")  # what the change feed does on partner.networks_changed
    assert isinstance(run.end(), Unavailable)


def test_streams_are_capped_per_partner_with_resource_exhausted(servicer):
    runs = [StreamRun(servicer, pb.StreamOutputsRequest(), FakeContext(ALPHA)) for _ in range(2)]
    deadline = time.monotonic() + 5
    while len(servicer.streams) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    error = raises(RateLimited, call, servicer, "StreamOutputs", pb.StreamOutputsRequest(), FakeContext(ALPHA))
    assert grpc_code(error) == grpc.StatusCode.RESOURCE_EXHAUSTED
    for run in runs:
        run.cancel()
        run.end()


def test_shutting_down_ends_open_streams_unavailable_so_clients_reconnect(servicer):
    run = StreamRun(servicer, pb.StreamOutputsRequest(), FakeContext(ALPHA))
    deadline = time.monotonic() + 5
    while len(servicer.streams) == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    servicer.streams.close_all()
    assert isinstance(run.end(), Unavailable)


# --- the interceptor around streams ----------------------------------------------------------------------------


def intercepted_stream(behaviour, method="/kring.v1.Federation/StreamOutputs"):
    """The stream as the grpc.aio server runs it behind the interceptor, read as a plain iterator."""
    handler = grpc.unary_stream_rpc_method_handler(behaviour)
    details = SimpleNamespace(method=method, invocation_metadata=(("x-correlation-id", "cid-7"),))
    wrapped = EdgeInterceptor().wrap(handler, details).unary_stream
    return lambda request, context: driven(wrapped(request, context))


def test_a_typed_error_raised_in_a_stream_becomes_its_status_with_field_violations():
    async def stream(request, context):
        yield pb.FeedItem(cursor="1")
        raise ValidationFailed.single("cursor", "valid_cursor", "not a cursor this API returned")

    context = FakeContext()
    items = []
    with pytest.raises(Aborted):
        for item in intercepted_stream(stream)(None, context):
            items.append(item)
    assert [i.cursor for i in items] == ["1"]
    assert context.status.code == grpc.StatusCode.INVALID_ARGUMENT
    assert context.initial_metadata == (("x-correlation-id", "cid-7"),)
    rich = status_pb2.Status.FromString(dict(context.status.trailing_metadata)["grpc-status-details-bin"])
    bad_request = error_details_pb2.BadRequest()
    assert any(detail.Unpack(bad_request) for detail in rich.details)
    assert [(v.field, v.reason) for v in bad_request.field_violations] == [("cursor", "valid_cursor")]


def test_streams_of_other_services_pass_through_the_interceptor_untouched():
    async def watch(request, context):
        yield "serving"

    handler = grpc.unary_stream_rpc_method_handler(watch)
    details = SimpleNamespace(method="/grpc.health.v1.Health/Watch", invocation_metadata=())

    async def continuation(_details):
        return handler

    assert asyncio.run(EdgeInterceptor().intercept_service(continuation, details)) is handler


def test_not_found_raised_in_a_stream_before_its_first_item_is_not_found():
    async def stream(request, context):
        raise NotFound("no such network")
        yield  # pragma: no cover - a generator

    context = FakeContext()
    with pytest.raises(Aborted):
        list(intercepted_stream(stream)(None, context))
    assert context.status.code == grpc.StatusCode.NOT_FOUND


def test_open_streams_never_starve_unary_calls_and_beyond_the_cap_stream_n_plus_one_is_resource_exhausted(
        networks, federation, sessions, experts):
    """The real server as the gateway builds it: with every admitted stream open (none holds a thread), a unary
    call still answers, and one stream more is refused instead of queued."""
    from services.api.kring.v1 import federation_pb2_grpc
    from services.gateway.partner.server import build_grpc_server

    federation.add_partner("gamma", ["beteroud"])
    services = FakeServices(networks=networks, federation=federation, sessions=sessions, members=experts)
    settings = Settings(instance_id="kring-test", grpc_port=0, grpc_workers=1, grpc_max_streams=3)
    edge = build_grpc_server(settings, services)
    edge.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{edge.port}")
    stub = federation_pb2_grpc.FederationStub(channel)
    keys = [ALPHA, ALPHA, BETA]  # two partners, so the per-partner cap (4) is not what refuses the fourth
    streams = [stub.StreamOutputs(pb.StreamOutputsRequest(), metadata=[("authorization", f"Bearer {key}")])
               for key in keys]
    try:
        deadline = time.monotonic() + 5
        while len(edge.federation.streams) < len(keys) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(edge.federation.streams) == 3
        instance = stub.GetInstance(pb.GetInstanceRequest(), timeout=5)
        assert instance.id == "kring-test"
        extra = stub.StreamOutputs(pb.StreamOutputsRequest(), metadata=[("authorization", "Bearer kpk_gamma")],
                                   timeout=5)
        with pytest.raises(grpc.RpcError) as refused:
            next(extra)
        assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "3 streams at most" in refused.value.details()
        rich = status_pb2.Status.FromString(dict(refused.value.trailing_metadata())["grpc-status-details-bin"])
        info = error_details_pb2.ErrorInfo()
        assert any(detail.Unpack(info) for detail in rich.details)
        assert (info.reason, info.domain) == ("RATE_LIMITED", "kring.v1")
        streams[0].cancel()  # a slot freed is a slot taken again
        deadline = time.monotonic() + 5
        while len(edge.federation.streams) > 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        again = stub.StreamOutputs(pb.StreamOutputsRequest(), metadata=[("authorization", "Bearer kpk_gamma")])
        streams.append(again)
        deadline = time.monotonic() + 5
        while len(edge.federation.streams) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(edge.federation.streams) == 3
    finally:
        for stream in streams:
            stream.cancel()
        channel.close()
        edge.stop(grace=1)


def test_a_request_id_reused_for_another_link_request_is_refused_naming_request_id(networks, federation, hub):
    from services.common.commands import IDEMPOTENCY_RULE, CommandRequest, Recorded

    class RefusingRepeats(KeyRecorder):
        def call(self, service, method, *args, timeout=None):
            request = idempotency.next_request(service, method)
            if method == "request_link":  # what the federation service answers a reused id
                Recorded("another fingerprint", {"result": {}}).replay(CommandRequest(request[0], method, request[1]))
            return self.services.call(service, method, *args, timeout=timeout)

    servicer = FederationServicer(Settings(instance_id="kring-test"),
                                  RefusingRepeats(FakeServices(networks=networks, federation=federation)), hub=hub)
    request = pb.RequestLinkRequest(requester_network_id="wijk-noord", target_network_id="beteroud",
                                    request_id="link-1")
    refused = raises(KringError, servicer.RequestLink, request, FakeContext(ALPHA))
    assert violations(refused) == {("request_id", IDEMPOTENCY_RULE)}
    assert "Idempotency-Key" not in refused.message


# --- the edge cache of directory and feed reads -----------------------------------------------------------------


@pytest.fixture
def live_servicer(servicer):
    """The servicer as the gateway runs it while its change feed is connected."""
    servicer.directory.live = lambda: True
    servicer.partners.cache.live = lambda: True
    return servicer


def test_a_hot_network_is_read_without_a_call_until_its_network_event(live_servicer, networks):
    request = pb.GetNetworkRequest(network_id="beteroud")
    first = live_servicer.GetNetwork(request, FakeContext(ALPHA))
    assert live_servicer.GetNetwork(request, FakeContext(ALPHA)) == first
    assert [c[0] for c in networks.calls].count("get_network") == 1
    live_servicer.directory.changed("network:werkplaats-zuid")  # another network's change keeps it
    live_servicer.GetNetwork(request, FakeContext(ALPHA))
    assert [c[0] for c in networks.calls].count("get_network") == 1
    live_servicer.directory.changed("network:beteroud", "networks")  # network.updated for beteroud
    live_servicer.GetNetwork(request, FakeContext(ALPHA))
    assert [c[0] for c in networks.calls].count("get_network") == 2


def test_network_listings_are_kept_per_query_until_any_network_changes(live_servicer, networks):
    regional = pb.ListNetworksRequest(level=pb.NETWORK_LEVEL_REGIONAL)
    live_servicer.ListNetworks(regional, FakeContext(ALPHA))
    live_servicer.ListNetworks(regional, FakeContext(BETA))
    live_servicer.ListNetworks(pb.ListNetworksRequest(), FakeContext(ALPHA))
    assert [c[0] for c in networks.calls].count("list_networks") == 2
    live_servicer.directory.changed("networks")  # network.created
    live_servicer.ListNetworks(regional, FakeContext(ALPHA))
    assert [c[0] for c in networks.calls].count("list_networks") == 3


def test_a_feed_page_is_kept_per_partner_until_its_networks_feed_grows(live_servicer, federation):
    federation.share("o-1", "beteroud", ["wijk-noord"])
    request = pb.ListOutputsRequest(network_id="wijk-noord")
    assert len(live_servicer.ListOutputs(request, FakeContext(ALPHA)).items) == 1
    federation.share("o-2", "beteroud", ["wijk-noord"])
    live_servicer.directory.changed("feed:wijk-noord")  # feed.appended for wijk-noord
    assert [i.output.output_id for i in live_servicer.ListOutputs(request, FakeContext(ALPHA)).items] == ["o-1", "o-2"]
    assert [c[0] for c in federation.calls].count("feed") == 2
    live_servicer.ListOutputs(request, FakeContext(ALPHA))
    assert [c[0] for c in federation.calls].count("feed") == 2


def test_a_cached_feed_page_is_never_shown_to_another_partner(live_servicer, federation):
    federation.share("o-1", "beteroud", ["wijk-noord"])
    live_servicer.ListOutputs(pb.ListOutputsRequest(network_id="wijk-noord"), FakeContext(ALPHA))
    raises(PermissionDenied, live_servicer.ListOutputs, pb.ListOutputsRequest(network_id="wijk-noord"),
           FakeContext(BETA))


def test_without_a_live_change_feed_directory_reads_ask_their_service_every_time(servicer, networks):
    request = pb.GetNetworkRequest(network_id="beteroud")
    servicer.GetNetwork(request, FakeContext(ALPHA))
    servicer.GetNetwork(request, FakeContext(ALPHA))
    assert [c[0] for c in networks.calls].count("get_network") == 2


# --- where a unary method runs on the grpc.aio server ----------------------------------------------------------


class ThreadRecorder:
    """The RPC caller, noting on which thread each call was made and with which correlation id."""

    def __init__(self, services):
        self.services = services
        self.seen: list[tuple[str, str, str | None]] = []

    def call(self, service, method, *args, timeout=None):
        from services.common.logs import correlation_id

        self.seen.append((method, threading.current_thread().name, correlation_id.get()))
        return self.services.call(service, method, *args, timeout=timeout)


def test_a_cached_read_is_answered_in_the_event_loop_and_a_service_call_never_runs_there(networks, federation, hub):
    from services.common.logs import correlation_id
    from services.gateway.partner.servicer import AsyncFederation

    recorder = ThreadRecorder(FakeServices(networks=networks, federation=federation))
    servicer = FederationServicer(Settings(instance_id="kring-test"), recorder, hub=hub)
    servicer.directory.live = servicer.partners.cache.live = lambda: True
    aio = AsyncFederation(servicer)
    request = pb.GetNetworkRequest(network_id="beteroud")
    looked_up_on: list[str] = []
    look_up = servicer.directory.get

    def noting_thread(key):
        looked_up_on.append(threading.current_thread().name)
        return look_up(key)
    servicer.directory.get = noting_thread

    async def get_network(cid):
        correlation_id.set(cid)
        loop_thread = threading.current_thread().name
        reply = await aio.GetNetwork(request, FakeContext(ALPHA))
        return loop_thread, reply

    loop_thread, first = asyncio.run(get_network("cid-miss"))
    # The miss: the key and the network asked for in the pool, never on the loop's thread, with the call's id.
    assert {(thread.startswith("grpc"), cid) for _, thread, cid in recorder.seen} == {(True, "cid-miss")}
    assert all(thread != loop_thread for _, thread, _ in recorder.seen)
    calls = len(recorder.seen)
    looked_up_on.clear()
    hit_thread, again = asyncio.run(get_network("cid-hit"))
    assert again == first
    assert len(recorder.seen) == calls  # the hit asked nobody...
    assert looked_up_on == [hit_thread]  # ...and was answered on the loop's own thread, from the edge cache
    servicer.offload.close()
    servicer.stream_work.close()
