"""The gateway's edge rules on their own (no stack): what no request may carry, whatever its schema says, and
how a call whose client already left is counted.

Found by the suites of this layer: a NUL character reached PostgreSQL (500 / INTERNAL), times at the ends of
the calendar overflowed Python's datetime in the gateway and in the sessions service (500), and a call whose
deadline had passed before its handler ran was counted and logged as INTERNAL.
"""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import timestamp_pb2
from prometheus_client import REGISTRY

from services.api.kring.v1 import federation_pb2 as pb
from services.gateway.partner import server as grpc_server
from services.gateway.shared.input_guard import json_violations, message_violations, request_violations, text_violations


def pairs(found: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(v["field"], v["rule"]) for v in found}


def test_text_with_a_nul_character_is_refused_wherever_it_is():
    body = {"name": "Mo\x00", "themes": ["zorg", "wo\x00nen"], "policy": {"themes": ["\x00"]}, "ok": "gewoon"}
    assert pairs(json_violations(body)) == {("name", "no_nul_character"), ("themes.1", "no_nul_character"),
                                            ("policy.themes.0", "no_nul_character")}
    assert pairs(json_violations({"a\x00": 1})) == {("a\x00", "no_nul_character")}
    assert pairs(json_violations("\x00")) == {("(body)", "no_nul_character")}


def test_dates_and_times_near_the_ends_of_the_calendar_are_refused_others_pass():
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0999-12-31", "9000-01-01",
                  "+10000-01-01T00:00:00Z", "-0001-01-01"):
        assert pairs(text_violations(value, "starts_at")) == {("starts_at", "time_in_range")}, value
    for value in ("2025-06-01T10:00:00+02:00", "1000-01-01", "8999-12-31T23:59:59Z", "2025-06-01 kenniscafé",
                  "0001 is a number", "Leersessie 0001-01-01 en verder"):
        assert text_violations(value, "title") == [], value


def test_path_and_query_parameters_are_checked_like_the_body():
    found = request_violations({"network_id": "n\x00"}, [("theme", "x\x00"), ("period_to", "0001-01-01T00:00:00Z"),
                                                         ("page_size", "50")], {"title": "goed"})
    assert pairs(found) == {("network_id", "no_nul_character"), ("theme", "no_nul_character"),
                            ("period_to", "time_in_range")}


def test_every_string_and_timestamp_of_a_request_message_is_checked_by_its_proto_path():
    request = pb.RequestLinkRequest(requester_network_id="n\x00", target_network_id="o",
                                    policy=pb.SharingPolicy(themes=["zorg", "\x00"]))
    assert pairs(message_violations(request)) == {("requester_network_id", "no_nul_character"),
                                                  ("policy.themes.1", "no_nul_character")}
    sessions = pb.ListSessionsRequest(network_id="n", starts_from=timestamp_pb2.Timestamp(seconds=253_402_300_800),
                                      starts_before=timestamp_pb2.Timestamp(seconds=-62_135_596_800))
    assert pairs(message_violations(sessions)) == {("starts_from", "valid_timestamp"),
                                                   ("starts_before", "time_in_range")}
    assert message_violations(pb.ListSessionsRequest(
        network_id="n", starts_from=timestamp_pb2.Timestamp(seconds=1_750_000_000))) == []


class GoneContext:
    """A call whose client left before the gateway could answer: grpcio raises on every operation."""

    def __init__(self, remaining: float | None) -> None:
        self.remaining = remaining
        self.ran = False

    async def send_initial_metadata(self, metadata):
        raise grpc.RpcError()

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return True

    def time_remaining(self) -> float | None:
        return self.remaining

    def code(self):
        return None

    async def abort_with_status(self, status):
        raise AssertionError("nothing may be sent to a client that left")


def counted(method: str, code: str) -> float:
    return REGISTRY.get_sample_value("kring_grpc_requests_total", {"method": method, "code": code}) or 0.0


@pytest.mark.parametrize("remaining, code", [(-0.5, "DEADLINE_EXCEEDED"), (None, "CANCELLED")])
def test_a_call_whose_client_left_before_the_answer_is_counted_as_such_not_as_internal(remaining, code):
    """Found here: a stream whose deadline passed before its handler ran was logged and counted INTERNAL."""
    method = f"/kring.v1.Federation/Gone{code}"
    context = GoneContext(remaining)

    async def behaviour(request, ctx):
        ctx.ran = True
        return pb.Network()

    handler = grpc_server._unary(method, {}, behaviour, lambda request: None)
    with pytest.raises(grpc.RpcError):
        asyncio.run(handler(pb.GetNetworkRequest(), context))
    assert not context.ran
    assert (counted(method, code), counted(method, "INTERNAL")) == (1.0, 0.0)
