"""Members through the admin API and the gRPC edge, with the stack running as separate processes."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.naming import fresh_tag


def unique_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@example.org"


def register(client, name: str = "Anna de Vries", **extra) -> dict:
    body = {"name": name, "email": unique_email(name.split()[0].lower()), "perspectives": ["practitioner"],
            **extra}
    response = client.post("/v1/members", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def violations(response) -> set[tuple[str, str]]:
    return {(v["field"], v["rule"]) for v in response.json()["error"]["violations"]}


def test_the_stack_is_ready_and_its_grpc_health_check_answers_serving(stack):
    with stack.anonymous() as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    with grpc.insecure_channel(stack.grpc) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


def test_a_member_is_registered_found_exported_and_erased(stack):
    with stack.client() as client:
        member = register(client, "Joost Jansen", email="Joost.Jansen@Example.ORG", perspectives=["lived_experience"],
                          expertise=["Eenzaamheid", "mantelzorg"], organisation="Pharos")
        assert member["email"] == "joost.jansen@example.org"
        assert member["expertise"] == ["eenzaamheid", "mantelzorg"]

        found = client.get("/v1/members", params={"expertise": "eenzaamheid", "organisation": "Pharos"}).json()
        assert member["id"] in [m["id"] for m in found["items"]]

        exported = client.get(f"/v1/members/{member['id']}/export").json()["members"]
        assert exported["member"]["name"] == "Joost Jansen"
        assert [e["type"] for e in exported["events"]] == ["member.registered"]

        erased = client.delete(f"/v1/members/{member['id']}")
        assert erased.status_code == 200, erased.text
        assert client.get(f"/v1/members/{member['id']}").status_code == 404
        found_after = client.get("/v1/members", params={"expertise": "eenzaamheid", "organisation": "Pharos"}).json()
        assert member["id"] not in [m["id"] for m in found_after["items"]]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": "a@example.org", "perspectives": ["resident"]}, {("name", "missing")}),
        ({"name": "A", "email": "not-an-email", "perspectives": ["resident"]}, {("email", "value_error")}),
        ({"name": "A", "email": "a@example.org", "perspectives": ["astronaut"]}, {("perspectives.0", "enum")}),
        ({"name": "A" * 201, "email": "a@example.org", "perspectives": ["resident"]}, {("name", "string_too_long")}),
        ({"name": 42, "email": "a@example.org", "perspectives": ["resident"]}, {("name", "string_type")}),
        ({"name": "A", "email": "a@example.org", "perspectives": "resident"}, {("perspectives", "list_type")}),
        ({"name": "A", "email": "a@example.org", "perspectives": []}, {("perspectives", "too_short")}),
    ],
    ids=["missing-name", "malformed-email", "unknown-perspective", "oversize-name", "name-not-a-string",
         "perspectives-not-a-list", "no-perspective"],
)
def test_bad_input_gets_422_naming_the_field_and_the_rule(stack, body, expected):
    with stack.client() as client:
        response = client.post("/v1/members", json=body)
    assert response.status_code == 422, response.text
    assert expected <= violations(response)


def test_a_duplicate_email_gets_409_whatever_its_case(stack):
    with stack.client() as client:
        member = register(client, "Eva Smit")
        response = client.post("/v1/members", json={"name": "Eva", "email": member["email"].upper(),
                                                    "perspectives": ["research"]})
    assert response.status_code == 409
    assert violations(response) == {("email", "unique")}


def test_a_body_that_is_not_json_gets_a_4xx_not_a_500(stack):
    with stack.client() as client:
        response = client.post("/v1/members", content=b"{not json", headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500


def test_no_token_is_401_and_a_member_token_cannot_register_members(stack):
    with stack.anonymous() as anonymous:
        assert anonymous.post("/v1/members", json={}).status_code == 401
    with stack.client() as operator:
        member = register(operator, "Lotte Visser")
        token = operator.post(f"/v1/members/{member['id']}/tokens", json={"label": "e2e"}).json()["token"]
    with stack.client(token) as as_member:
        assert as_member.get(f"/v1/members/{member['id']}").status_code == 200
        assert as_member.post("/v1/members", json={"name": "X", "email": unique_email("x"),
                                                   "perspectives": ["resident"]}).status_code == 403
        assert as_member.get(f"/v1/members/{member['id']}/export").status_code == 200
    with stack.client("wrong-token") as wrong:
        assert wrong.get(f"/v1/members/{member['id']}").status_code == 401


def test_a_sign_in_gives_a_token_that_works_until_its_holder_signs_out(stack):
    """The console's path on the real stack: exchange a verified address, act as the member, sign out, refused."""
    with stack.client() as operator:
        member = register(operator, "Sanne Bakker")
    with stack.client(stack.broker_token) as broker:
        response = broker.post("/v1/sign-in/tokens", json={"email": member["email"].upper(), "ttl_seconds": 600})
        assert response.status_code == 201, response.text
        assert response.headers["cache-control"] == "no-store"
        signed = response.json()
        assert (signed["member_id"], signed["operator"]) == (member["id"], False)
        assert broker.get("/v1/whoami").status_code == 403  # the broker's token opens nothing else
        unknown = broker.post("/v1/sign-in/tokens", json={"email": unique_email("nobody")})
        assert unknown.status_code == 404 and violations(unknown) == {("email", "active_member")}
    with stack.client(signed["token"]) as as_member:
        whoami = as_member.get("/v1/whoami").json()
        assert (whoami["member_id"], whoami["token_id"], whoami["expires_at"]) == (
            member["id"], signed["token_id"], signed["expires_at"])
        assert as_member.get(f"/v1/members/{member['id']}").status_code == 200
        assert as_member.post("/v1/sign-in/tokens", json={"email": member["email"]}).status_code == 403
        assert as_member.delete(f"/v1/tokens/{signed['token_id']}").status_code == 204  # signing out
        assert as_member.get("/v1/whoami").status_code == 401
    with stack.client() as operator:
        entries = operator.get("/v1/audit", params={"action": "token.issued", "target_id": member["id"]}).json()
    assert [e["detail"] for e in entries["items"]] == [{"token_id": signed["token_id"], "via": "sign-in",
                                                        "operator": False}]


def test_an_operators_sign_in_acts_with_the_operators_authority(stack):
    from tests.support.stack import OPERATOR_EMAIL

    with stack.client() as operator:
        olga = operator.post("/v1/members", json={"name": "Olga Operator", "email": OPERATOR_EMAIL,
                                                  "perspectives": ["practitioner"]})
        assert olga.status_code in (201, 409), olga.text  # one member per address, whichever test made it
    with stack.client(stack.broker_token) as broker:
        signed = broker.post("/v1/sign-in/tokens", json={"email": OPERATOR_EMAIL}).json()
    assert signed["operator"] is True
    tag = fresh_tag()
    with stack.client(signed["token"]) as as_operator, stack.client() as operator:
        me = as_operator.get("/v1/whoami").json()
        assert me["operator"] is True
        assert as_operator.get("/v1/audit", params={"page_size": 1}).status_code == 200  # the operator's only
        # The person's keys are theirs: the operator token's same key for another request is no conflict.
        key = {"Idempotency-Key": f"olga-{tag}"}
        bea = as_operator.post("/v1/members", headers=key, json={"name": "Bea", "perspectives": ["resident"],
                                                                  "email": f"bea.{tag}@example.org"})
        cor = operator.post("/v1/members", headers=key, json={"name": "Cor", "perspectives": ["resident"],
                                                              "email": f"cor.{tag}@example.org"})
        assert (bea.status_code, cor.status_code) == (201, 201), cor.text
        # Audited with the operator's authority and the person behind it, by reference, never their address.
        as_operator.post(f"/v1/members/{bea.json()['id']}/tokens", json={"label": "e2e"},
                         headers={"X-Correlation-ID": f"olga-issue-{tag}"})
        [entry] = [e for e in operator.get("/v1/audit", params={"action": "token.issued", "target_id":
                                                                 bea.json()["id"]}).json()["items"]
                   if e["correlation_id"] == f"olga-issue-{tag}"]
        assert entry["actor"] == {"kind": "operator", "id": None, "erased": False,
                                  "person": {"kind": "member", "id": me["member_id"], "erased": False}}
        assert OPERATOR_EMAIL not in json.dumps(entry) and "Olga" not in json.dumps(entry)
    with stack.client(signed["token"]) as as_operator:
        assert as_operator.delete(f"/v1/tokens/{signed['token_id']}").status_code == 204
        assert as_operator.get("/v1/whoami").status_code == 401
