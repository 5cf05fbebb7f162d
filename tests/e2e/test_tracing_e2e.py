"""Tracing end to end: the whole stack (`kring run`) exporting over OTLP/HTTP to a collector in this test, which
keeps every span in memory. A request sent with a W3C ``traceparent`` into either edge of the gateway is found as
one trace: the gateway's HTTP or gRPC span, its RPC call, the service's worker and its SQL, the event's creation
in the outbox, its publication by the relay, and the consumers' handling, each in its own process."""

from __future__ import annotations

import gzip
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from services.api.kring.v1 import federation_pb2 as pb
from tests.e2e.test_partner_e2e import create_network, register_partner
from tests.support.infra import postgres_database, rabbit_vhost
from tests.support.partner_client import PartnerClient
from tests.support.stack import Stack, start_stack, stop_stack
from tests.support.tracing import new_traceparent

ARRIVAL = 30.0  # seconds for spans to reach the collector (each process exports in batches)
CONSUMERS = {"kring-sessions", "kring-federation"}  # the handlers of network.created


@dataclass(frozen=True)
class Span:
    process: str  # the resource's service.name: kring-gateway, kring-networks...
    name: str
    kind: str  # SPAN_KIND_SERVER...
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict


class Collector:
    """An OTLP/HTTP trace receiver (POST /v1/traces, protobuf), keeping what it receives."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name for it
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                collector.receive(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, request: ExportTraceServiceRequest) -> None:
        from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    attributes = {a.key: a.value.string_value or a.value.int_value for a in s.attributes}
                    with self._lock:
                        self.spans.append(Span(resource.get("service.name", ""), s.name,
                                               ProtoSpan.SpanKind.Name(s.kind), s.trace_id.hex(), s.span_id.hex(),
                                               s.parent_span_id.hex(), attributes))

    def trace(self, trace_id: str) -> list[Span]:
        with self._lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def wait(self, trace_id: str, ready, what: str) -> list[Span]:
        deadline = time.monotonic() + ARRIVAL
        while True:
            spans = self.trace(trace_id)
            if ready(spans):
                return spans
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}; the trace has:\n{describe(spans)}", pytrace=False)
            time.sleep(0.2)

    def close(self) -> None:
        self.server.shutdown()


def describe(spans: list[Span]) -> str:
    return "\n".join(f"{s.process:18} {s.kind:20} {s.name} {s.span_id} <- {s.parent_id}" for s in spans)


def one(spans: list[Span], process: str, name: str, kind: str) -> Span:
    found = [s for s in spans if (s.process, s.name, s.kind) == (process, name, kind)]
    assert len(found) == 1, f"expected one {kind} span {name!r} of {process}:\n{describe(spans)}"
    return found[0]


@pytest.fixture(scope="module")
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.close()


@pytest.fixture(scope="module")
def traced_stack(collector, tmp_path_factory) -> Iterator[Stack]:
    """The stack on PostgreSQL with tracing on: spans exported to the collector every 200 ms."""
    tmp = tmp_path_factory.mktemp("stack-traced")
    otel = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    with rabbit_vhost("kring-e2e-trace") as amqp_uri, postgres_database("kring_e2e_trace") as database_url:
        running = start_stack(tmp, amqp_uri, database_url, extra_env=otel)
        yield running
        assert stop_stack(running.process) == 0, "kring run did not stop cleanly on Ctrl-C"


def test_an_admin_api_request_with_a_traceparent_is_one_trace_through_rpc_outbox_relay_and_consumers(
        traced_stack, collector):
    traceparent, trace_id, caller_span = new_traceparent()
    with traced_stack.client() as operator:
        created = operator.post("/v1/networks", headers={"traceparent": traceparent},
                                json={"name": f"Werkplaats {uuid.uuid4().hex[:6]}", "level": "regional",
                                      "kind": "werkplaats", "theme": "tracing"})
    assert created.status_code == 201, created.text

    def consumed(spans: list[Span]) -> bool:  # each process exports on its own schedule: wait for the gateway too
        return CONSUMERS <= {s.process for s in spans if s.name == "network.created process"} and \
            {("POST /v1/networks", "SPAN_KIND_SERVER"), ("networks.create_network", "SPAN_KIND_CLIENT")} <= \
            {(s.name, s.kind) for s in spans if s.process == "kring-gateway"}

    spans = collector.wait(trace_id, consumed, "the gateway's and the consumers' spans of network.created")
    explain = describe(spans)
    http = one(spans, "kring-gateway", "POST /v1/networks", "SPAN_KIND_SERVER")
    assert http.parent_id == caller_span, "the gateway continues the caller's traceparent\n" + explain
    client = one(spans, "kring-gateway", "networks.create_network", "SPAN_KIND_CLIENT")
    server = one(spans, "kring-networks", "networks.create_network", "SPAN_KIND_SERVER")
    assert server.parent_id == client.span_id, "the RPC headers carry the context to the service\n" + explain
    assert {s.span_id for s in spans} >= {client.parent_id}, explain
    assert any(s.process == "kring-networks" and s.parent_id == server.span_id and "db.system" in
               " ".join(s.attributes) for s in spans), "the command's SQL is traced\n" + explain
    event = one(spans, "kring-networks", "network.created create", "SPAN_KIND_PRODUCER")
    assert event.parent_id == server.span_id, explain
    sent = one(spans, "kring-networks", "network.created send", "SPAN_KIND_PRODUCER")
    assert sent.parent_id == event.span_id, "the outbox relay publishes from the stored context\n" + explain
    for process in CONSUMERS:
        consumer = one(spans, process, "network.created process", "SPAN_KIND_CONSUMER")
        assert consumer.parent_id == event.span_id, "a consumer continues the event's context\n" + explain


def test_a_partner_api_call_with_a_traceparent_is_one_trace_through_the_rpc_to_the_service(traced_stack, collector):
    with traced_stack.client() as operator:
        network_id = create_network(operator, f"Werkplaats {uuid.uuid4().hex[:6]}", "tracing")
        partner = PartnerClient(traced_stack.grpc, register_partner(operator, "Werkplaats Oost", network_id)["api_key"])
    traceparent, trace_id, caller_span = new_traceparent()
    try:
        answer = partner.stub.GetNetwork(pb.GetNetworkRequest(network_id=network_id), timeout=10,
                                         metadata=(*partner.metadata, ("traceparent", traceparent)))
    finally:
        partner.close()
    assert answer.id == network_id

    def served(spans: list[Span]) -> bool:  # the gateway's spans and the service's, exported each on its schedule
        return any(s.process == "kring-networks" and s.kind == "SPAN_KIND_SERVER" for s in spans) and \
            any(s.process == "kring-gateway" and s.kind == "SPAN_KIND_SERVER" for s in spans) and \
            any(s.process == "kring-gateway" and s.kind == "SPAN_KIND_CLIENT" for s in spans)

    spans = collector.wait(trace_id, served, "the gateway's and the networks service's spans of the partner's call")
    explain = describe(spans)
    edge = one(spans, "kring-gateway", "/kring.v1.Federation/GetNetwork", "SPAN_KIND_SERVER")
    assert edge.parent_id == caller_span, "the gateway continues the partner's traceparent\n" + explain
    clients = [s for s in spans if s.process == "kring-gateway" and s.kind == "SPAN_KIND_CLIENT"]
    servers = [s for s in spans if s.process != "kring-gateway" and s.kind == "SPAN_KIND_SERVER"]
    assert clients and servers, explain
    assert {s.parent_id for s in servers} <= {c.span_id for c in clients}, explain
    assert all(c.parent_id in {s.span_id for s in spans} for c in clients), explain
