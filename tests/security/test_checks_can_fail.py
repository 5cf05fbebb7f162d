"""Each check of this layer, shown failing when the guarantee it checks is broken on purpose.

A suite that cannot fail proves nothing. Here every check the other files rely on is pointed at something
broken, and must say so: schemathesis at a tiny app that answers 500, an undocumented status and a body its
document does not describe; the authorization matrix at a wrong table; the gRPC refusals at a server without
the gateway's edge (grpcio's own INTERNAL for undecodable bytes); the dead-letter check at a queue nobody
consumes; the secrets scan at a table with a plaintext token; the gateway's own counters at a 500.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator

import grpc
import kombu
import pytest
import schemathesis
import sqlalchemy
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc
from services.gateway.partner.server import EdgeInterceptor, LoopThread
from tests.security import edge
from tests.security.fuzzing import fuzz
from tests.security.secrets_scan import where_found
from tests.security.test_authorization_matrix import (
    HTTP_ACCESS,
    REFUSED_HTTP,
    access_mismatch,
    http_answers,
    openapi_routes,
    roles,
    table_mismatches,
)
from tests.security.test_bus_dead_letters import dead_lettered
from tests.security.test_grpc_hostile_input import refusal
from tests.support.infra import postgres_database

# --- schemathesis ---------------------------------------------------------------------------------------------


class Item(BaseModel):
    name: str


def broken_app() -> FastAPI:
    app = FastAPI()

    @app.get("/crash", response_model=Item)
    def crash() -> JSONResponse:
        return JSONResponse({"error": "boom"}, status_code=500)

    @app.get("/teapot", response_model=Item)
    def teapot() -> JSONResponse:
        return JSONResponse({"name": "tea"}, status_code=418)

    @app.get("/items/{item_id}", response_model=Item)
    def wrong_shape(item_id: int) -> JSONResponse:
        return JSONResponse({"nom": item_id})

    @app.get("/fine", response_model=Item)
    def fine() -> Item:
        return Item(name="fine")

    return app


@pytest.fixture(scope="module")
def broken_schema():
    return schemathesis.openapi.from_asgi("/openapi.json", broken_app())


@pytest.mark.parametrize("path, finding", [
    ("/crash", "Server error"),
    ("/teapot", "Undocumented status code"),
    ("/items/{item_id}", "Response violates schema"),
])
def test_the_fuzzer_reports_a_broken_operation(broken_schema, path, finding):
    failures, sent = fuzz(broken_schema[path]["GET"], examples=5)
    assert sent > 0
    assert failures and finding in failures[0], failures


def test_the_fuzzer_passes_an_operation_that_keeps_its_document(broken_schema):
    assert fuzz(broken_schema["/fine"]["GET"], examples=5)[0] == []


# --- the authorization matrix -------------------------------------------------------------------------------------


def test_the_matrix_reports_a_role_the_table_does_not_expect_and_one_it_misses(world):
    route = "GET /v1/partners"  # the operator's alone
    answers = http_answers(world, route)
    refused = lambda status: status in REFUSED_HTTP  # noqa: E731
    assert access_mismatch(route, roles(HTTP_ACCESS[route]), answers, refused) is None
    too_generous = access_mismatch(route, roles("coordinator operator"), answers, refused)
    assert too_generous is not None and "the table says ['coordinator', 'operator']" in too_generous
    too_strict = access_mismatch(route, frozenset(), answers, refused)
    assert too_strict is not None and "let through ['operator']" in too_strict


def test_the_matrix_reports_a_route_missing_from_the_table_and_a_line_for_no_route(world):
    document = world.operator.get("/openapi.json").json()
    table = {key: value for key, value in HTTP_ACCESS.items() if key != "GET /v1/partners"}
    table["GET /v1/secrets"] = "operator"
    assert table_mismatches(table, openapi_routes(document), "the OpenAPI document") == [
        "GET /v1/partners: the OpenAPI document has it, the table has no line for it",
        "GET /v1/secrets: the table has a line for it, the OpenAPI document does not"]


# --- gRPC: the edge, removed -----------------------------------------------------------------------------------------


class Buggy(federation_pb2_grpc.FederationServicer):
    async def GetNetwork(self, request, context):  # type: ignore[override]  # a grpc.aio method
        raise ValueError("a bug")


@pytest.fixture
def grpc_server() -> Iterator:
    """A grpc.aio server, as the gateway's, on an event loop of its own thread."""
    servers = []

    async def build(interceptors) -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server(interceptors=list(interceptors))
        federation_pb2_grpc.add_FederationServicer_to_server(Buggy(), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    def start(*interceptors) -> grpc.Channel:
        loop = LoopThread()
        server, port = loop.run(build(interceptors))
        servers.append((loop, server))
        return grpc.insecure_channel(f"127.0.0.1:{port}")

    yield start
    for loop, server in servers:
        loop.run(server.stop(0))
        loop.close()


def test_undecodable_bytes_are_internal_without_the_gateways_edge_and_invalid_argument_with_it(grpc_server):
    invalid_utf8 = b"\x0a\x03\xff\xfe\xfd"
    bare = grpc_server().unary_unary("/kring.v1.Federation/GetNetwork")
    # grpc.aio answers UNKNOWN (the sync server INTERNAL): the hostile-input check refuses both
    assert refusal(lambda: bare(invalid_utf8, timeout=5)) == (grpc.StatusCode.UNKNOWN, frozenset())
    edged = grpc_server(EdgeInterceptor()).unary_unary("/kring.v1.Federation/GetNetwork")
    assert refusal(lambda: edged(invalid_utf8, timeout=5)) == (grpc.StatusCode.INVALID_ARGUMENT,
                                                                frozenset({("(request)", "decodable")}))


def test_a_bug_behind_the_edge_is_internal_and_the_hostile_input_check_would_say_so(grpc_server):
    stub = federation_pb2_grpc.FederationStub(grpc_server(EdgeInterceptor()))
    code, _ = refusal(lambda: stub.GetNetwork(pb.GetNetworkRequest(network_id="n"), timeout=5))
    assert code == grpc.StatusCode.INTERNAL  # what every hostile-input case asserts it never gets


def test_the_gateways_counters_report_an_internal_status_and_a_500():
    before = Counter({("grpc", "/kring.v1.Federation/GetNetwork", "OK"): 4})
    after = Counter({("grpc", "/kring.v1.Federation/GetNetwork", "OK"): 9,
                     ("grpc", "/kring.v1.Federation/GetNetwork", "INTERNAL"): 1,
                     ("http", "GET /v1/networks", "500"): 2, ("http", "GET /v1/networks", "422"): 3})
    assert edge.broken(before, after) == {("grpc", "/kring.v1.Federation/GetNetwork", "INTERNAL"): 1,
                                          ("http", "GET /v1/networks", "500"): 2}
    assert edge.broken(after, after) == {}


# --- the bus: a malformed message nobody consumes is not dead-lettered ---------------------------------------------


def test_the_dead_letter_check_fails_when_nothing_was_dead_lettered(amqp_uri):
    marker = uuid.uuid4().hex
    with kombu.Connection(amqp_uri, connect_timeout=5) as conn:
        exchange = kombu.Exchange("security.nobody", type="topic", durable=False, auto_delete=True)
        queue = kombu.Queue(f"security.nobody-{marker}", exchange=exchange, routing_key="#", auto_delete=True)
        queue(conn.default_channel).declare()
        conn.Producer().publish(f'{{"not json {marker}'.encode(), exchange=exchange, routing_key="x",
                                content_type="application/json")
    with pytest.raises(pytest.fail.Exception, match="dead-lettered"):
        dead_lettered(amqp_uri, marker, ["undecodable message"], {queue.name}, timeout=2.0)


# --- the secrets scan ------------------------------------------------------------------------------------------------


def test_the_secrets_scan_finds_a_plaintext_token_in_any_table_and_not_its_hash():
    token = f"krm_{uuid.uuid4().hex}"
    with postgres_database("kring_security_scan") as url:
        engine = sqlalchemy.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sqlalchemy.text("CREATE SCHEMA careless"))
            conn.execute(sqlalchemy.text("CREATE TABLE careless.sessions (id int, note text, data json)"))
            conn.execute(sqlalchemy.text("INSERT INTO careless.sessions VALUES (1, 'fine', :data)"),
                         {"data": f'{{"authorization": "Bearer {token}"}}'})
            conn.execute(sqlalchemy.text("CREATE TABLE public.tokens (token_hash text)"))
            conn.execute(sqlalchemy.text("INSERT INTO public.tokens VALUES (encode(sha256(:t), 'hex'))"),
                         {"t": token.encode()})
        engine.dispose()
        assert where_found(url, [token]) == ["careless.sessions.data"]
        assert where_found(url, [f"krm_{uuid.uuid4().hex}"]) == []
