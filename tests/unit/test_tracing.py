"""Tracing (services/common/tracing.py): off at no cost unless configured; when on, the W3C trace context is
continued at the edges, carried with RPC calls and events, and written into every log line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import warnings

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from services.common import logs, tracing
from services.common.config import Settings
from services.common.errors import NotFound
from services.common.rpc_client import RpcPool
from services.gateway.admin.app import create_app
from tests.support.tracing import hex_id, named, new_traceparent, parent_id, spans_of, traced
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices
from tests.unit.test_gateway_rpc_pool import FakeFactory

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OTEL_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED")


@pytest.fixture
def spans():
    with traced("unit") as exporter:
        yield exporter


@pytest.mark.parametrize(("mode", "environ", "on"), [
    ("auto", {}, False),
    ("auto", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
    ("auto", {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
    ("auto", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ("off", {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
    ("on", {}, True),
    ("on", {"OTEL_SDK_DISABLED": "TRUE"}, False),
])
def test_tracing_runs_only_when_an_otlp_endpoint_is_configured_or_it_is_asked_for(mode, environ, on):
    assert tracing.wanted(mode, environ) is on


def test_the_tracing_setting_takes_only_its_three_modes():
    assert Settings(tracing="off").tracing == "off"
    with pytest.raises(ValueError, match="tracing"):
        Settings(tracing="sometimes")


def _run_gateway_setup(extra_env: dict[str, str]) -> dict:
    """What a gateway process has loaded and installed after its start-up steps, in a fresh interpreter."""
    script = textwrap.dedent("""
        import json, sys
        from services.common import tracing
        from services.common.config import Settings
        from services.common.db import create_service_engine
        from services.common.rpc_client import RpcPool
        from services.gateway.admin.app import create_app
        from opentelemetry import trace

        on = tracing.configure_tracing("gateway", Settings().tracing)
        app = create_app(Settings(), RpcPool(lambda: None, 1, 1.0))
        app.middleware_stack = app.build_middleware_stack()
        engine = create_service_engine("sqlite://", "members")
        data = {"traceparent": "stale"}
        tracing.inject_into(data)
        provider = trace.get_tracer_provider()
        print(json.dumps({
            "on": on,
            "sdk_loaded": sorted(m for m in sys.modules if m.startswith("opentelemetry.sdk")),
            "instrumentations_loaded": sorted(m for m in sys.modules if m.startswith("opentelemetry.instrumentation.")
                                              and m.split(".")[2] in ("fastapi", "grpc", "sqlalchemy")),
            "provider": type(provider).__name__,
            "processors": [type(p.span_exporter).__name__ for p in
                           getattr(getattr(provider, "_active_span_processor", None), "_span_processors", ())],
            "grpc_interceptors": len(tracing.grpc_server_interceptors()),
            "data": data,
        }))
        tracing.shutdown_tracing()
    """)
    env = {k: v for k, v in os.environ.items() if k not in OTEL_VARIABLES and not k.startswith("KRING_")}
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env={**env, **extra_env}, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_an_endpoint_no_sdk_is_loaded_nothing_is_instrumented_and_no_context_is_sent():
    seen = _run_gateway_setup({})
    assert seen["on"] is False
    assert seen["sdk_loaded"] == [], "the SDK is imported only when tracing is on"
    assert seen["instrumentations_loaded"] == []
    assert seen["provider"] == "ProxyTracerProvider", "the API's no-op provider stays"
    assert seen["grpc_interceptors"] == 0
    assert seen["data"] == {"traceparent": "stale"}, "inject_into returns at once when off"


def test_with_an_endpoint_spans_go_to_the_otlp_exporter_and_every_edge_is_instrumented():
    # Nothing listens on port 9; no span is made, so nothing is sent.
    seen = _run_gateway_setup({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert seen["on"] is True
    assert seen["provider"] == "TracerProvider"
    assert seen["processors"] == ["OTLPSpanExporter"]
    assert {"opentelemetry.instrumentation.fastapi", "opentelemetry.instrumentation.sqlalchemy"} <= set(
        seen["instrumentations_loaded"])
    assert seen["grpc_interceptors"] == 1
    assert "traceparent" not in seen["data"], "a stale context is dropped, none current to send"


def test_kring_tracing_off_wins_over_a_configured_endpoint():
    seen = _run_gateway_setup({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "KRING_TRACING": "off"})
    assert seen["on"] is False and seen["sdk_loaded"] == []


def test_a_worker_span_continues_the_callers_context_and_passes_its_own_on(spans):
    traceparent, trace_id, caller_span = new_traceparent()
    data = {"correlation_id": "c-1", "traceparent": traceparent}
    worker = tracing.start_worker_span("members", data, rpc_method="register_member")
    assert worker is not None
    assert tracing.current_trace_id() == trace_id
    own = tracing.current_span_id()
    assert data["traceparent"] == f"00-{trace_id}-{own}-01", "onward calls and events continue from the worker"
    worker.end()
    assert tracing.current_trace_id() is None, "the worker's context is gone once it ends"
    [server] = spans_of(spans, trace_id)
    assert server.kind == SpanKind.SERVER and server.name == "members.register_member"
    assert parent_id(server) == caller_span and hex_id(server) == own


def test_an_event_worker_is_a_consumer_span_of_its_producers_context(spans):
    traceparent, trace_id, producer_span = new_traceparent()
    worker = tracing.start_worker_span("sessions", {"traceparent": traceparent},
                                       event=("networks", "network.created"))
    assert worker is not None
    worker.end()
    [consumer] = spans_of(spans, trace_id)
    assert consumer.kind == SpanKind.CONSUMER and consumer.name == "network.created process"
    assert parent_id(consumer) == producer_span
    assert consumer.attributes["messaging.destination.name"] == "networks.events"
    assert consumer.attributes["messaging.consumer.group.name"] == "sessions"


def test_a_worker_without_a_callers_context_starts_a_trace_of_its_own(spans):
    worker = tracing.start_worker_span("members", {}, rpc_method="get_member")
    assert worker is not None
    worker.end()
    [root] = spans.get_finished_spans()
    assert root.parent is None


def test_a_typed_error_is_noted_on_the_span_but_an_unexpected_one_fails_it(spans):
    for exc, expected in ((NotFound("no such member"), True), (RuntimeError("bug"), False)):
        worker = tracing.start_worker_span("members", {}, rpc_method="get_member")
        assert worker is not None
        worker.fail(exc, expected=expected)
        worker.end()
    typed, bug = spans.get_finished_spans()
    assert typed.status.status_code == StatusCode.UNSET and typed.attributes["kring.error"] == "not_found"
    assert bug.status.status_code == StatusCode.ERROR and bug.events[0].name == "exception"


def test_the_relay_sends_an_events_stored_context_as_nameko_headers():
    stored = {"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01", "tracestate": "k=v", "other": "x"}
    assert tracing.event_headers(stored) == {"nameko.traceparent": stored["traceparent"],
                                             "nameko.tracestate": "k=v"}
    assert tracing.event_headers(None) == {}, "an event stored while tracing was off is sent as before"


def test_an_events_context_is_its_own_create_span_child_of_the_work_that_made_it(spans):
    traceparent, trace_id, _ = new_traceparent()
    with tracing.span("command", parent={"traceparent": traceparent}):
        command = tracing.current_span_id()
        with tracing.event_created("members", "member.registered", "e-1"):
            stored = tracing.event_trace_context()
    assert stored is not None
    [created] = named(spans_of(spans, trace_id), "member.registered create", SpanKind.PRODUCER)
    assert stored["traceparent"] == f"00-{trace_id}-{hex_id(created)}-01"
    assert parent_id(created) == command


def test_nothing_is_stored_with_an_event_when_tracing_is_off():
    assert not tracing.enabled()
    assert tracing.event_trace_context() is None


def test_the_rpc_pool_calls_inside_a_client_span_of_the_current_trace(spans):
    seen = []
    factory = FakeFactory(lambda service, method, args: seen.append(tracing.current_span_id()) or {"ok": True})
    pool = RpcPool(factory, 1, 1.0)
    traceparent, trace_id, _ = new_traceparent()
    with tracing.span("edge", parent={"traceparent": traceparent}):
        pool.call("members", "get_member", "m-1")
    [client] = named(spans_of(spans, trace_id), "members.get_member", SpanKind.CLIENT)
    assert seen == [hex_id(client)], "the proxy sends the client span's context (NamekoProxy injects the current one)"
    assert client.attributes["rpc.system"] == "nameko"


def test_a_log_line_carries_the_trace_and_span_ids_beside_the_correlation_id(spans):
    token = logs.correlation_id.set("corr-9")
    try:
        traceparent, trace_id, _ = new_traceparent()
        with tracing.span("work", parent={"traceparent": traceparent}):
            record = logging.LogRecord("services.test", logging.INFO, __file__, 1, "hello", (), None)
            entry = json.loads(logs.JsonFormatter("members").format(record))
            span_id = tracing.current_span_id()
    finally:
        logs.correlation_id.reset(token)
    assert entry["correlation_id"] == "corr-9"
    assert entry["trace_id"] == trace_id and entry["span_id"] == span_id


def test_a_log_line_has_no_trace_fields_when_tracing_is_off():
    record = logging.LogRecord("services.test", logging.INFO, __file__, 1, "hello", (), None)
    entry = json.loads(logs.JsonFormatter("members").format(record))
    assert "trace_id" not in entry and "span_id" not in entry


def test_the_admin_api_continues_an_incoming_traceparent_into_its_rpc_calls(spans):
    networks = FakeNetworks()
    networks.add("wijk-noord", "neighbourhood")
    members = FakeMembers(networks)
    members.add("ann", ["wijk-noord"])
    seen = []

    class Recording(FakeServices):
        def call(self, service, method, *args, timeout=None):
            seen.append((method, tracing.current_trace_id()))
            return super().call(service, method, *args, timeout=timeout)

    app = create_app(Settings(operator_token="op"), Recording(members=members, networks=networks),
                     readiness=FakeReadiness({"rabbitmq": "ok"}))
    traceparent, trace_id, caller_span = new_traceparent()
    response = TestClient(app).get("/v1/members", headers={"Authorization": "Bearer op",
                                                           "traceparent": traceparent})
    assert response.status_code == 200
    assert seen and all(t == trace_id for _, t in seen), seen
    [server] = [s for s in spans_of(spans, trace_id) if s.kind == SpanKind.SERVER]
    assert parent_id(server) == caller_span and server.attributes["http.route"] == "/v1/members"


def test_an_rpc_call_outside_any_trace_is_sent_unsampled_so_the_services_record_nothing(spans):
    seen = []

    def answer(service, method, args):
        data: dict = {}
        tracing.inject_into(data)  # what NamekoProxy sends
        seen.append(data["traceparent"])
        return {"ok": True}

    RpcPool(FakeFactory(answer), 1, 1.0).call("federation", "feed", {})  # a poll, a readiness probe
    assert spans.get_finished_spans() == ()
    [traceparent] = seen
    assert traceparent.endswith("-00"), "the sampled flag is off: a parent-based sampler drops the service's spans"
    worker = tracing.start_worker_span("federation", {"traceparent": traceparent}, rpc_method="feed")
    assert worker is not None
    worker.end()
    assert spans.get_finished_spans() == (), "the service follows the caller's decision"
