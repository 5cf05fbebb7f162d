"""Malformed and hostile input on the partner gRPC API of a running gateway: refused with the right status and
the fields named, never INTERNAL or UNKNOWN.

Protobuf has no wrong types at the API level, so the hostile input a partner can send is: enum numbers this
version does not define, required fields left out, strings and lists over their limits, a message over the
server's receive limit, cursors and page tokens we never issued, another partner's networks, ids that do not
exist, text PostgreSQL cannot store, timestamps outside the calendar, a deadline already spent, bytes that
are not the message at all (raw), and a malformed ``authorization`` header. Each case is one line below:
the call as the partner of network ``n``, the status, and the (field, rule) pairs of the BadRequest detail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from services.api.kring.v1 import federation_pb2 as pb
from tests.security import edge
from tests.security.world import World
from tests.support.naming import fresh_tag

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
EXHAUSTED = grpc.StatusCode.RESOURCE_EXHAUSTED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
MAX_MESSAGE_BYTES = 1024 * 1024  # services.gateway.partner.server.MAX_MESSAGE_BYTES


@dataclass(frozen=True)
class Case:
    method: str
    request: Callable[[World], Any]
    code: grpc.StatusCode
    violations: frozenset[tuple[str, str]] = frozenset()


def fields(*pairs: str) -> frozenset[tuple[str, str]]:
    """``"title:string_too_long"`` -> ("title", "string_too_long")."""
    return frozenset(tuple(pair.rsplit(":", 1)) for pair in pairs)  # type: ignore[misc]


def output(w: World, **overrides: Any) -> pb.PublishOutputRequest:
    """A valid output of network n, with some fields changed."""
    return pb.PublishOutputRequest(**{
        "network_id": w.n, "client_output_id": f"hostile-{fresh_tag()}", "kind": pb.OUTPUT_KIND_LESSON,
        "title": "Een les", "visibility": pb.VISIBILITY_LINKED, **overrides})


def at(seconds: int, nanos: int = 0) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)


YEAR_1 = -62_135_596_800  # 0001-01-01T00:00:00Z: a valid Timestamp, too close to the calendar's end to compute with
BEYOND_9999 = 253_402_300_800  # one second after the largest valid Timestamp

CASES: dict[str, Case] = {
    # --- enum numbers this version does not define -----------------------------------------------------------------
    "unknown level filter": Case("ListNetworks", lambda w: pb.ListNetworksRequest(level=99), INVALID,
                                 fields("level:known_value")),
    "negative kind filter": Case("ListNetworks", lambda w: pb.ListNetworksRequest(kind=-7), INVALID,
                                 fields("kind:known_value")),
    "unknown output kind": Case("PublishOutput", lambda w: output(w, kind=77), INVALID, fields("kind:known_value")),
    "huge visibility": Case("PublishOutput", lambda w: output(w, visibility=2**31 - 1), INVALID,
                            fields("visibility:known_value")),
    "unknown resource type": Case("PublishOutput", lambda w: output(w, resource_type=42), INVALID,
                                  fields("resource_type:known_value")),
    "unknown visibility in a link policy": Case(
        "RequestLink", lambda w: pb.RequestLinkRequest(requester_network_id=w.n, target_network_id=w.o,
                                                       policy=pb.SharingPolicy(visibilities=[9])),
        INVALID, fields("policy.visibilities.0:known_value")),
    # --- required fields left out ---------------------------------------------------------------------------------
    "empty output": Case("PublishOutput", lambda w: pb.PublishOutputRequest(), INVALID, fields(
        "network_id:required", "client_output_id:required", "kind:required", "title:required",
        "visibility:required")),
    "network without id": Case("GetNetwork", lambda w: pb.GetNetworkRequest(), INVALID, fields("network_id:required")),
    "sessions without network": Case("ListSessions", lambda w: pb.ListSessionsRequest(), INVALID,
                                     fields("network_id:required")),
    "link without networks": Case("RequestLink", lambda w: pb.RequestLinkRequest(), INVALID, fields(
        "requester_network_id:required", "target_network_id:required")),
    "expertise without tag": Case("FindExpertise", lambda w: pb.FindExpertiseRequest(), INVALID,
                                  fields("tag:required")),
    "blank expertise tag": Case("FindExpertise", lambda w: pb.FindExpertiseRequest(tag="   "), INVALID,
                                fields("tag:required")),
    "retract without id": Case("RetractOutput", lambda w: pb.RetractOutputRequest(), INVALID,
                               fields("output_id:string_too_short")),
    "link without id": Case("GetLink", lambda w: pb.GetLinkRequest(), INVALID, fields("link_id:string_too_short")),
    "feed without network": Case("ListOutputs", lambda w: pb.ListOutputsRequest(), INVALID,
                                 fields("network_id:missing")),
    # --- strings and lists over their limits ---------------------------------------------------------------------
    "title of 301 characters": Case("PublishOutput", lambda w: output(w, title="t" * 301), INVALID,
                                    fields("title:string_too_long")),
    "body of 20,001 characters": Case("PublishOutput", lambda w: output(w, body="b" * 20_001), INVALID,
                                      fields("body:string_too_long")),
    "client id of 101 characters": Case("PublishOutput", lambda w: output(w, client_output_id="c" * 101), INVALID,
                                        fields("client_output_id:string_too_long")),
    "session ref of 101 characters": Case("PublishOutput", lambda w: output(w, session_ref="s" * 101), INVALID,
                                          fields("session_ref:string_too_long")),
    "21 themes": Case("PublishOutput", lambda w: output(w, themes=[f"thema{i}" for i in range(21)]), INVALID,
                      fields("themes:too_long")),
    "a theme of 61 characters": Case("PublishOutput", lambda w: output(w, themes=["t" * 61]), INVALID,
                                     fields("themes.0:string_too_long")),
    "21 authors": Case("PublishOutput", lambda w: output(w, authors=["een deelnemer"] * 21), INVALID,
                       fields("authors:too_long")),
    "an author of 201 characters": Case("PublishOutput", lambda w: output(w, authors=["a" * 201]), INVALID,
                                        fields("authors.0:string_too_long")),
    "a theme filter of 101 characters": Case("ListNetworks", lambda w: pb.ListNetworksRequest(theme="t" * 101),
                                             INVALID, fields("theme:string_too_long")),
    "a network id of 101 characters": Case("GetNetwork", lambda w: pb.GetNetworkRequest(network_id="n" * 101),
                                           INVALID, fields("network_id:string_too_long")),
    "an output id of 101 characters": Case("RetractOutput", lambda w: pb.RetractOutputRequest(output_id="o" * 101),
                                           INVALID, fields("output_id:string_too_long")),
    "a link id of 101 characters": Case("GetLink", lambda w: pb.GetLinkRequest(link_id="l" * 101), INVALID,
                                        fields("link_id:string_too_long")),
    "a page of 201": Case("ListNetworks", lambda w: pb.ListNetworksRequest(page_size=201), INVALID,
                          fields("page_size:less_than_equal")),
    "a negative page size": Case("ListOutputs", lambda w: pb.ListOutputsRequest(network_id=w.n, page_size=-1),
                                 INVALID, fields("page_size:greater_than_equal")),
    "a stream of 101 networks": Case("StreamOutputs", lambda w: pb.StreamOutputsRequest(
        network_ids=[f"n{i}" for i in range(101)]), INVALID, fields("network_ids:max_items")),
    "a network id that is not an id": Case("GetNetwork", lambda w: pb.GetNetworkRequest(network_id="../etc/passwd"),
                                           INVALID, fields("network_id:string_pattern_mismatch")),
    # --- a message over the server's receive limit: refused before any code of ours runs ----------------------
    "a message over 1 MiB": Case("PublishOutput", lambda w: output(w, body="x" * (MAX_MESSAGE_BYTES + 1)), EXHAUSTED),
    # --- cursors and page tokens we never issued -------------------------------------------------------------------
    "a word for a cursor": Case("StreamOutputs", lambda w: pb.StreamOutputsRequest(cursor="yesterday"), INVALID,
                                fields("cursor:valid_cursor")),
    "a negative cursor": Case("StreamOutputs", lambda w: pb.StreamOutputsRequest(cursor="-1"), INVALID,
                              fields("cursor:valid_cursor")),
    "a cursor past 2**63": Case("StreamOutputs", lambda w: pb.StreamOutputsRequest(cursor=str(2**63)), INVALID,
                                fields("cursor:valid_cursor")),
    "a cursor of 40 digits": Case("GetFeedHead", lambda w: pb.GetFeedHeadRequest(cursor="9" * 40), INVALID,
                                  fields("cursor:valid_cursor")),
    "a padded cursor": Case("StreamOutputs", lambda w: pb.StreamOutputsRequest(cursor=" 7"), INVALID,
                            fields("cursor:valid_cursor")),
    "a word for a page token": Case("ListNetworks", lambda w: pb.ListNetworksRequest(page_token="page-two"),
                                    INVALID, fields("page_token:valid_page_token")),
    "a negative page token": Case("ListSessions", lambda w: pb.ListSessionsRequest(network_id=w.n, page_token="-5"),
                                  INVALID, fields("page_token:valid_page_token")),
    "a huge page token": Case("ListOutputs", lambda w: pb.ListOutputsRequest(network_id=w.n, page_token="9" * 60),
                              INVALID, fields("page_token:valid_page_token")),
    "a page token of 501 characters": Case("FindExpertise", lambda w: pb.FindExpertiseRequest(
        tag="zorg", page_token="p" * 501), INVALID, fields("page_token:string_too_long")),
    # --- another partner's networks (forged ids) ----------------------------------------------------------------------
    "publishing for another's network": Case("PublishOutput", lambda w: output(w, network_id=w.o), DENIED),
    "reading another's feed": Case("ListOutputs", lambda w: pb.ListOutputsRequest(network_id=w.o), DENIED),
    "streaming another's feed": Case("StreamOutputs", lambda w: pb.StreamOutputsRequest(network_ids=[w.n, w.o]),
                                     DENIED),
    "another's feed head": Case("GetFeedHead", lambda w: pb.GetFeedHeadRequest(network_ids=[w.o]), DENIED),
    "linking from another's network": Case("RequestLink", lambda w: pb.RequestLinkRequest(
        requester_network_id=w.o, target_network_id=w.n), DENIED),
    "reading a link between others": Case("GetLink", lambda w: pb.GetLinkRequest(link_id=w.other_link),
                                          DENIED),
    "retracting another partner's output": Case("RetractOutput", lambda w: pb.RetractOutputRequest(
        output_id=w.other_output), DENIED),
    # --- ids that do not exist ---------------------------------------------------------------------------------------
    "an unknown network": Case("GetNetwork", lambda w: pb.GetNetworkRequest(network_id="no-such-network"), NOT_FOUND),
    "sessions of an unknown network": Case("ListSessions", lambda w: pb.ListSessionsRequest(
        network_id="no-such-network"), NOT_FOUND),
    "the feed of an unknown network": Case("ListOutputs", lambda w: pb.ListOutputsRequest(
        network_id="no-such-network"), NOT_FOUND),
    "publishing for an unknown network": Case("PublishOutput", lambda w: output(w, network_id="no-such-network"),
                                              NOT_FOUND),
    "linking to an unknown network": Case("RequestLink", lambda w: pb.RequestLinkRequest(
        requester_network_id=w.n, target_network_id="no-such-network"), NOT_FOUND),
    "retracting an unknown output": Case("RetractOutput", lambda w: pb.RetractOutputRequest(output_id="no-such-output"),
                                         NOT_FOUND),
    "an unknown link": Case("GetLink", lambda w: pb.GetLinkRequest(link_id="no-such-link"), NOT_FOUND),
    # --- text PostgreSQL cannot store, times Python cannot compute with --------------------------------------------
    "a NUL in a title": Case("PublishOutput", lambda w: output(w, title="Een\x00les"), INVALID,
                             fields("title:no_nul_character")),
    "a NUL in a theme filter": Case("ListNetworks", lambda w: pb.ListNetworksRequest(theme="zorg\x00"), INVALID,
                                    fields("theme:no_nul_character")),
    "a NUL in an output id": Case("RetractOutput", lambda w: pb.RetractOutputRequest(output_id="\x00"), INVALID,
                                  fields("output_id:no_nul_character")),
    "a NUL in a link policy theme": Case("RequestLink", lambda w: pb.RequestLinkRequest(
        requester_network_id=w.n, target_network_id=w.o,
        policy=pb.SharingPolicy(visibilities=[pb.VISIBILITY_LINKED], themes=["zorg\x00"])), INVALID,
        fields("policy.themes.0:no_nul_character")),
    "a timestamp after 9999": Case("ListSessions", lambda w: pb.ListSessionsRequest(
        network_id=w.n, starts_from=at(BEYOND_9999)), INVALID, fields("starts_from:valid_timestamp")),
    "a timestamp with 2 s of nanos": Case("ListSessions", lambda w: pb.ListSessionsRequest(
        network_id=w.n, starts_before=at(0, 2_000_000_000)), INVALID, fields("starts_before:valid_timestamp")),
    "the first second of year 1": Case("ListSessions", lambda w: pb.ListSessionsRequest(
        network_id=w.n, starts_from=at(YEAR_1)), INVALID, fields("starts_from:time_in_range")),
}


def refusal(call: Callable[[], Any]) -> tuple[grpc.StatusCode, frozenset[tuple[str, str]]]:
    """The status of a call that must fail, and the (field, rule) pairs of its BadRequest detail."""
    try:
        call()
    except grpc.RpcError as exc:
        status = rpc_status.from_call(exc)
        found = set()
        for detail in status.details if status else ():
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                found |= {(v.field, v.reason) for v in bad_request.field_violations}
        return exc.code(), frozenset(found)
    pytest.fail("the call succeeded", pytrace=False)


@pytest.fixture(scope="module")
def baseline(stack):
    return edge.answers(stack)


@pytest.fixture(scope="module")
def hostile(world) -> World:
    """The scenario, plus what some cases need: a link not involving n, an output of the other partner."""
    world.other_link = world.grpc("other-partner").call("RequestLink", pb.RequestLinkRequest(
        requester_network_id=world.o, target_network_id=world.network())).link_id
    world.other_output = world.grpc("other-partner").call("PublishOutput", pb.PublishOutputRequest(
        network_id=world.o, client_output_id=f"other-{fresh_tag()}", kind=pb.OUTPUT_KIND_LESSON, title="Van een ander",
        visibility=pb.VISIBILITY_PUBLIC)).output_id
    return world


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_refused_with_its_status_and_fields(hostile, baseline, name):
    case = CASES[name]
    code, found = refusal(lambda: hostile.grpc("partner").call(case.method, case.request(hostile)))
    assert (code, found if case.violations else frozenset()) == (case.code, case.violations), name


@pytest.mark.parametrize("raw", [
    pytest.param(b"\x0a\x03\xff\xfe\xfd", id="invalid UTF-8 in a string field"),
    pytest.param(b"\x0a\x09abc", id="a string longer than the message"),
    pytest.param(b"\xff\xff\xff\xff", id="not protobuf at all"),
    pytest.param(b"\x0a" + b"\xff" * 11, id="a length varint of 11 bytes"),
])
def test_bytes_that_are_not_the_request_message_are_invalid_argument_not_internal(hostile, baseline, raw):
    method = hostile.grpc("partner").channel.unary_unary("/kring.v1.Federation/GetNetwork")
    code, found = refusal(lambda: method(raw, metadata=hostile.grpc("partner").metadata, timeout=10))
    assert (code, found) == (INVALID, fields("(request):decodable"))


def test_a_field_of_the_wrong_wire_type_or_an_unknown_field_is_ignored_as_protobuf_says(hostile, baseline):
    """Field 1 sent as a number, and field 99: protobuf keeps them as unknown fields; the request has no id."""
    method = hostile.grpc("partner").channel.unary_unary("/kring.v1.Federation/GetNetwork")
    code, found = refusal(lambda: method(b"\x08\x01\x9a\x06\x03abc", metadata=hostile.grpc("partner").metadata,
                                         timeout=10))
    assert (code, found) == (INVALID, fields("network_id:required"))


@pytest.mark.parametrize("authorization", [
    pytest.param("Basic dXNlcjpwYXNz", id="another scheme"),
    pytest.param("Bearer", id="no key"),
    pytest.param("Bearer " + "k" * 600, id="a key longer than any we issue"),
    pytest.param("Bearer krm_" + "0" * 43, id="a key nobody issued"),
    pytest.param("bearer  krm_" + "0" * 43 + "  ", id="odd spacing and case"),
])
def test_a_malformed_authorization_header_is_unauthenticated(hostile, baseline, authorization):
    stub = hostile.grpc("anonymous").stub
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListNetworks(pb.ListNetworksRequest(), metadata=(("authorization", authorization),), timeout=10)
    assert refused.value.code() == UNAUTHENTICATED


def test_metadata_over_the_transport_limit_is_resource_exhausted(hostile, baseline):
    """gRPC refuses headers over its hard limit (16 KiB by default) before the gateway's code runs; between 8 and
    16 KiB it refuses some at random."""
    stub = hostile.grpc("anonymous").stub
    with pytest.raises(grpc.RpcError) as refused:
        stub.ListNetworks(pb.ListNetworksRequest(), metadata=(("authorization", "Bearer " + "k" * 65_536),),
                          timeout=10)
    assert refused.value.code() == EXHAUSTED


@pytest.mark.parametrize("method, request_of", [
    ("GetNetwork", lambda w: pb.GetNetworkRequest(network_id=w.n)),
    ("ListOutputs", lambda w: pb.ListOutputsRequest(network_id=w.n)),
    ("PublishOutput", output),
    ("StreamOutputs", lambda w: pb.StreamOutputsRequest(network_ids=[w.n])),
])
def test_a_deadline_spent_before_the_call_arrives_ends_it_as_deadline_exceeded(hostile, baseline, method, request_of):
    with pytest.raises(grpc.RpcError) as ended:
        hostile.grpc("partner").call(method, request_of(hostile), timeout=0.000_001)
    assert ended.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_the_gateway_answered_none_of_these_internal_or_unknown(hostile, baseline):
    """Counted by the gateway itself: a call it ended INTERNAL after the client gave up shows here too."""
    assert hostile.grpc("partner").call("GetNetwork", pb.GetNetworkRequest(network_id=hostile.n)).id == hostile.n
    assert edge.broken_since(baseline, hostile.stack) == {}


def details_of(call: Callable[[], Any]) -> tuple[grpc.StatusCode, set[str]]:
    """The status of a call that must fail, and the names of the rich error details it carries."""
    try:
        call()
    except grpc.RpcError as exc:
        status = rpc_status.from_call(exc)
        return exc.code(), {d.TypeName() for d in status.details} if status else set()
    pytest.fail("the call succeeded", pytrace=False)


def test_only_the_documented_refusals_of_the_grpc_library_come_without_error_info(hostile, baseline):
    """README "Partner API", "Refusals without details": what the gRPC library refuses before Kring's code runs (a
    message over 1 MiB, metadata over 16 KiB, a method this version does not have) carries a status and a
    message only; every refusal of Kring's own carries ErrorInfo and RequestInfo."""
    partner = hostile.grpc("partner")
    unknown_method = partner.channel.unary_unary("/kring.v1.Federation/NoSuchMethod")
    assert details_of(lambda: partner.call("PublishOutput", output(hostile, body="x" * (MAX_MESSAGE_BYTES + 1)))) \
        == (EXHAUSTED, set())
    assert details_of(lambda: hostile.grpc("anonymous").stub.ListNetworks(
        pb.ListNetworksRequest(), metadata=(("authorization", "Bearer " + "k" * 65_536),), timeout=10)) \
        == (EXHAUSTED, set())
    assert details_of(lambda: unknown_method(b"", metadata=partner.metadata, timeout=10)) \
        == (grpc.StatusCode.UNIMPLEMENTED, set())
    ours = {"google.rpc.ErrorInfo", "google.rpc.RequestInfo"}
    code, found = details_of(lambda: partner.call("GetNetwork", pb.GetNetworkRequest(network_id="no-such-network")))
    assert code == NOT_FOUND and ours <= found
    code, found = details_of(lambda: partner.call("PublishOutput", output(hostile, title="t" * 301)))
    assert code == INVALID and ours | {"google.rpc.BadRequest"} <= found
