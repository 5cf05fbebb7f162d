"""Tracing across the bus, in process: a caller's trace context followed through the gateway's RPC pool, the
service's worker, its SQL, the outbox row and the relay, to the consumers of the event, with every span kept by an
in-memory exporter (the same code exports over OTLP in production)."""

from __future__ import annotations

import eventlet
import pytest
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from services.common import tracing
from services.common.db import create_service_engine
from services.common.rpc_client import NamekoProxy, RpcPool
from services.networks.models import outbox
from tests.support.callers import OPERATOR_WIRE
from tests.support.tracing import describe, hex_id, named, new_traceparent, parent_id, spans_of, traced
from tests.support.waiting import eventually

CONSUMERS = {"sessions", "federation"}  # the services that handle network.created


@pytest.fixture
def spans():
    with traced("integration") as exporter:
        yield exporter


@pytest.fixture
def pool(spans, all_services, all_services_config):
    """The gateway's RPC pool, to the four services started with tracing on (so their engines are traced)."""
    rpc = RpcPool(lambda: NamekoProxy(all_services_config, 15.0), 2, 15.0)
    yield rpc
    rpc.close()


def create_network(pool: RpcPool, traceparent: str, name: str) -> dict:
    # The edge's span (the admin API's or the partner API's in the gateway), continuing the caller's traceparent.
    with tracing.span("edge", parent={"traceparent": traceparent}):
        network: dict = pool.call("networks", "create_network", OPERATOR_WIRE,
                                  {"name": name, "level": "regional", "kind": "werkplaats", "theme": "eenzaamheid"})
    return network


def consumed_by_all(spans, trace_id: str) -> bool:
    groups = {s.attributes.get("messaging.consumer.group.name")
              for s in named(spans_of(spans, trace_id), "network.created process", SpanKind.CONSUMER)}
    return CONSUMERS <= groups


def test_one_trace_follows_a_command_from_the_callers_traceparent_through_rpc_sql_outbox_and_consumers(
        spans, pool, all_services_config):
    traceparent, trace_id, caller_span = new_traceparent()
    network = create_network(pool, traceparent, "Werkplaats Utrecht")
    eventually(lambda: consumed_by_all(spans, trace_id), what="both consumers' spans of network.created")

    trace = spans_of(spans, trace_id)
    explain = describe(trace)
    [edge] = named(trace, "edge")
    assert parent_id(edge) == caller_span, explain
    [client] = named(trace, "networks.create_network", SpanKind.CLIENT)
    [server] = named(trace, "networks.create_network", SpanKind.SERVER)
    assert parent_id(client) == hex_id(edge), explain
    assert parent_id(server) == hex_id(client), "the service's span continues the caller's RPC span\n" + explain
    sql = [s for s in trace if {"db.system", "db.system.name"} & set(s.attributes or {})]
    assert any(parent_id(s) == hex_id(server) for s in sql), "the command's SQL is traced under it\n" + explain
    [created] = named(trace, "network.created create", SpanKind.PRODUCER)
    assert parent_id(created) == hex_id(server), explain
    [sent] = named(trace, "network.created send", SpanKind.PRODUCER)
    assert parent_id(sent) == hex_id(created), "the outbox relay's publication continues the event's context"
    for consumer in named(trace, "network.created process", SpanKind.CONSUMER):
        assert parent_id(consumer) == hex_id(created), "a consumer continues the event's creation\n" + explain

    # The context was stored with the event in the outbox row, in the transaction of the change.
    engine = create_service_engine(all_services_config["DATABASE_URL"], "networks")
    try:
        with engine.connect() as conn:
            stored = conn.execute(select(outbox.c.trace_context)
                                  .where(outbox.c.event_type == "network.created")).scalars().all()
    finally:
        engine.dispose()
    assert any(c and c["traceparent"].split("-")[1:3] == [trace_id, hex_id(created)] for c in stored), stored
    assert network["name"] == "Werkplaats Utrecht"


def test_concurrent_calls_with_different_traceparents_keep_their_own_traces_in_every_worker(spans, pool):
    """Under eventlet each green thread has its own context: two calls in flight at once, in the gateway's pool and
    in the services' workers, never mix their traces."""
    calls = [new_traceparent() for _ in range(2)]
    threads = [eventlet.spawn(create_network, pool, traceparent, f"Werkplaats {n}")
               for n, (traceparent, _, _) in enumerate(calls)]
    networks = [thread.wait() for thread in threads]
    for _, trace_id, _ in calls:
        eventually(lambda trace_id=trace_id: consumed_by_all(spans, trace_id), what="both consumers' spans")

    created_ids = set()
    for (_, trace_id, caller_span), network in zip(calls, networks, strict=True):
        trace = spans_of(spans, trace_id)
        explain = describe(trace)
        [edge] = named(trace, "edge")
        assert parent_id(edge) == caller_span, explain
        [client] = named(trace, "networks.create_network", SpanKind.CLIENT)
        [server] = named(trace, "networks.create_network", SpanKind.SERVER)  # one each: no worker saw the other's
        assert parent_id(server) == hex_id(client), explain
        [created] = named(trace, "network.created create", SpanKind.PRODUCER)
        created_ids.add(created.attributes["messaging.message.id"])
        consumers = named(trace, "network.created process", SpanKind.CONSUMER)
        assert {c.attributes["messaging.consumer.group.name"] for c in consumers} == CONSUMERS, explain
        assert all(parent_id(c) == hex_id(created) for c in consumers), explain
    assert len(created_ids) == 2, "each trace holds its own event"
    assert {n["name"] for n in networks} == {"Werkplaats 0", "Werkplaats 1"}
