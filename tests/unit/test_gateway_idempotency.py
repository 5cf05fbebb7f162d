"""Idempotency keys at the admin API: a retry with the same key sends the services the same request ids (which
they apply once, see test_commands_applied_once_sqlite.py), with a fingerprint of the HTTP request; keys are
scoped to the caller; a malformed key is refused naming the header."""

from __future__ import annotations

import warnings

import pytest

from services.common.config import Settings
from services.common.rpc_client import RpcPool
from services.gateway.admin.app import create_app
from services.gateway.shared import idempotency
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
NETWORK = {"name": "Wijkteam Noord", "level": "national", "kind": "learning_circle", "theme": "eenzaamheid"}


class RecordingProxy:
    """A pooled proxy that hands each call to the fake services and records the request id it carried."""

    def __init__(self, services: FakeServices, sent: list[tuple[str, str, tuple[str, str] | None]]) -> None:
        self.services = services
        self.sent = sent

    def call(self, service, method, args, *, correlation_id, timeout, request=None):
        self.sent.append((service, method, request))
        return self.services.call(service, method, *args, timeout=timeout)

    def close(self) -> None:
        pass


@pytest.fixture
def sent() -> list[tuple[str, str, tuple[str, str] | None]]:
    return []


@pytest.fixture
def members() -> FakeMembers:
    fake = FakeMembers(FakeNetworks())
    fake.add("ann", [])
    return fake


@pytest.fixture
def client(sent, members) -> TestClient:
    networks = members.networks
    services = FakeServices(members=members, networks=networks)
    pool = RpcPool(lambda: RecordingProxy(services, sent), size=2, timeout=5.0, request_of=idempotency.next_request)
    app = create_app(Settings(operator_token=OPERATOR_TOKEN), pool, readiness=FakeReadiness({"rabbitmq": "ok"}))
    return TestClient(app)


def commands(sent, method: str) -> list[tuple[str, str] | None]:
    return [request for _, called, request in sent if called == method]


def test_a_retry_with_the_same_key_sends_the_same_request_id_and_fingerprint(client, sent):
    headers = {**OPERATOR, "Idempotency-Key": "create-noord-1"}
    first = client.post("/v1/networks", headers=headers, json=NETWORK)
    again = client.post("/v1/networks", headers=headers, json=dict(reversed(list(NETWORK.items()))))

    assert (first.status_code, again.status_code) == (201, 201)
    sent_requests = commands(sent, "create_network")
    assert len(sent_requests) == 2 and sent_requests[0] is not None
    assert sent_requests[0] == sent_requests[1]  # key order in the body does not make another request


def test_the_same_key_with_another_body_is_sent_as_the_same_request_id_with_another_fingerprint(client, sent):
    headers = {**OPERATOR, "Idempotency-Key": "create-noord-2"}
    client.post("/v1/networks", headers=headers, json=NETWORK)
    client.post("/v1/networks", headers=headers, json={**NETWORK, "name": "Wijkteam Zuid"})

    (first_id, first_print), (second_id, second_print) = commands(sent, "create_network")
    assert first_id == second_id and first_print != second_print  # the service refuses it: 409


def test_keys_are_scoped_to_the_caller(client, sent, members):
    for caller in (OPERATOR, members.token_for("ann")):  # the operator, and Ann herself
        response = client.patch("/v1/members/ann", headers={**caller, "Idempotency-Key": "same-key"},
                                json={"organisation": "Buurtteam"})
        assert response.status_code == 200

    ids = [request[0] for request in commands(sent, "update_member")]
    assert len(ids) == 2 and ids[0] != ids[1]


def test_two_people_signed_in_with_the_operators_authority_do_not_share_their_keys(client, sent, members):
    olga = members.token_for("olga", operator=True, token_id="s-olga")
    piet = members.token_for("piet", operator=True, token_id="s-piet")
    for caller in (OPERATOR, olga, piet):
        response = client.patch("/v1/members/ann", headers={**caller, "Idempotency-Key": "same-key"},
                                json={"organisation": "Buurtteam"})
        assert response.status_code == 200

    ids = [request[0] for request in commands(sent, "update_member")]
    assert len(set(ids)) == 3  # neither the operator token's scope nor each other's


def test_without_a_key_no_request_id_is_sent_and_the_service_uses_the_messages_own(client, sent):
    assert client.post("/v1/networks", headers=OPERATOR, json=NETWORK).status_code == 201
    assert commands(sent, "create_network") == [None]


@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "sleutel-ü".encode("latin-1")])
def test_a_malformed_key_is_refused_naming_the_header_and_nothing_is_sent(client, sent, key):
    response = client.post("/v1/networks", headers={**OPERATOR, "Idempotency-Key": key}, json=NETWORK)

    assert response.status_code == 422
    assert response.json()["error"]["violations"][0]["field"] == "Idempotency-Key"
    assert commands(sent, "create_network") == []


def test_each_call_of_one_command_within_a_request_has_its_own_request_id():
    keyed = idempotency.keyed_request("operator", "k", "POST", "/v1/x", {})
    first, second = keyed.next_request("federation", "request_link"), keyed.next_request("federation", "request_link")
    again = idempotency.keyed_request("operator", "k", "POST", "/v1/x", {}).next_request("federation", "request_link")

    assert first[0] != second[0]
    assert again == first  # the same request made again starts counting again


def test_the_openapi_document_offers_the_key_on_every_changing_operation_and_on_no_read(client):
    paths = client.get("/openapi.json").json()["paths"]
    takes_key = {(method.upper(), path): any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))
                 for path, operations in paths.items() if path.startswith("/v1/")
                 for method, op in operations.items()}
    assert takes_key[("POST", "/v1/networks")] and takes_key[("DELETE", "/v1/members/{member_id}")]
    assert all(takes for (method, _), takes in takes_key.items() if method != "GET")
    assert not any(takes for (method, _), takes in takes_key.items() if method == "GET")


def test_every_changing_operation_documents_the_409_a_reused_key_gets(client):
    paths = client.get("/openapi.json").json()["paths"]
    changing = [op for path, ops in paths.items() if path.startswith("/v1/")
                for method, op in ops.items() if method != "get"]
    assert changing and all("Idempotency-Key" in op["responses"]["409"]["description"] for op in changing)
    assert all(op["responses"]["409"]["content"] == op["responses"]["422"]["content"] for op in changing)
