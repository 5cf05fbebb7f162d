"""The sign-in exchange and signing out, at the admin API: POST /v1/sign-in/tokens takes only the sign-in
broker's token, which opens nothing else; a member revokes their own token, not another's; an expired token is
refused (routes against the members service's fake, whose rules are the service's own access functions)."""

import warnings
from datetime import UTC, datetime, timedelta

import pytest

from services.common.config import Settings
from services.gateway.admin.app import create_app
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "operator-secret"
BROKER_TOKEN = "broker-secret-0123456789"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
BROKER = {"Authorization": f"Bearer {BROKER_TOKEN}"}


@pytest.fixture
def members():
    fake = FakeMembers(FakeNetworks())
    fake.add("ann", ["wijk-noord"])
    fake.add("olga")  # an operator who is a member too
    return fake


def app_with(members, **settings):
    defaults = {"operator_token": OPERATOR_TOKEN, "sign_in_broker_token": BROKER_TOKEN,
                "operator_emails": "Olga@Example.org"}
    app = create_app(Settings(**{**defaults, **settings}), FakeServices(members=members),
                     readiness=FakeReadiness({"rabbitmq": "ok", "members": "ok"}))
    return TestClient(app)


@pytest.fixture
def client(members):
    return app_with(members)


def sign_in(client, email="ann@example.org", headers=BROKER, **body):
    return client.post("/v1/sign-in/tokens", headers=headers, json={"email": email, **body})


def test_the_broker_exchanges_a_known_email_for_a_members_token_that_expires(client, members):
    before = datetime.now(UTC)
    response = sign_in(client, "ANN@example.org", ttl_seconds=600)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    answer = response.json()
    assert set(answer) == {"token", "token_id", "member_id", "expires_at", "operator"}
    assert (answer["member_id"], answer["operator"]) == ("ann", False)
    expires = datetime.fromisoformat(answer["expires_at"])
    assert before + timedelta(seconds=600) <= expires <= datetime.now(UTC) + timedelta(seconds=600)
    assert members.calls[-1] == ("sign_in", {"email": "ann@example.org", "ttl_seconds": 600, "operator": False})


def test_a_sign_in_lasts_eight_hours_unless_asked_otherwise(client, members):
    assert sign_in(client).status_code == 201
    assert members.calls[-1][1]["ttl_seconds"] == 28_800


def test_an_email_in_the_operator_list_gets_the_operators_authority_decided_by_the_gateway(client, members):
    response = sign_in(client, "olga@EXAMPLE.org")
    assert (response.status_code, response.json()["operator"]) == (201, True)
    assert members.calls[-1][1]["operator"] is True


def test_the_body_cannot_ask_for_the_operators_authority(client, members):
    response = sign_in(client, operator=True)
    assert response.status_code == 422
    assert response.json()["error"]["violations"][0]["field"] == "operator"
    assert "sign_in" not in [call[0] for call in members.calls]


def test_an_email_no_active_member_has_is_a_404_naming_the_email_and_its_rule(client):
    response = sign_in(client, "nobody@example.org")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert [(v["field"], v["rule"]) for v in error["violations"]] == [("email", "active_member")]


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({"email": "ann@example.org", "ttl_seconds": 59}, "ttl_seconds", "greater_than_equal"),
    ({"email": "ann@example.org", "ttl_seconds": 43_201}, "ttl_seconds", "less_than_equal"),
    ({"email": "not an address"}, "email", "value_error"),
    ({}, "email", "missing"),
], ids=["ttl-too-short", "ttl-too-long", "not-an-email", "no-email"])
def test_bad_input_to_the_exchange_is_a_422_naming_the_field_and_rule(client, members, body, field, rule):
    response = client.post("/v1/sign-in/tokens", headers=BROKER, json=body)
    assert response.status_code == 422
    violations = response.json()["error"]["violations"]
    assert (violations[0]["field"], violations[0]["rule"]) == (field, rule)
    assert "sign_in" not in [call[0] for call in members.calls]


@pytest.mark.parametrize("who", ["operator", "member"])
def test_the_exchange_refuses_every_token_but_the_brokers(client, members, who):
    headers = OPERATOR if who == "operator" else members.token_for("ann")
    response = sign_in(client, headers=headers)
    assert response.status_code == 403
    assert "sign-in broker" in response.json()["error"]["message"]
    assert "sign_in" not in [call[0] for call in members.calls]


def test_the_exchange_without_a_token_is_a_401(client):
    assert sign_in(client, headers={}).status_code == 401


def test_without_a_broker_token_configured_sign_in_is_refused(members):
    client = app_with(members, sign_in_broker_token=None)
    response = sign_in(client)
    assert response.status_code == 403
    assert "not enabled" in response.json()["error"]["message"]


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/v1/whoami"), ("GET", "/v1/members"), ("GET", "/v1/members/ann"), ("DELETE", "/v1/tokens/t-ann"),
    ("POST", "/v1/members/ann/tokens"),
])
def test_the_broker_token_opens_nothing_but_the_exchange(client, members, method, path):
    members.token_for("ann")
    response = client.request(method, path, headers=BROKER, json={} if method == "POST" else None)
    assert response.status_code == 403
    assert "opens only POST /v1/sign-in/tokens" in response.json()["error"]["message"]
    assert "authenticate" not in [call[0] for call in members.calls]


def test_a_member_revokes_their_own_token_and_it_stops_working_at_once(client, members):
    headers = members.token_for("ann")
    assert client.get("/v1/whoami", headers=headers).status_code == 200  # now cached
    assert client.delete("/v1/tokens/t-ann", headers=headers).status_code == 204
    assert client.get("/v1/whoami", headers=headers).status_code == 401


def test_a_member_may_not_revoke_another_members_token(client, members):
    members.token_for("bob")
    response = client.delete("/v1/tokens/t-bob", headers=members.token_for("ann"))
    assert response.status_code == 403
    assert "your own" in response.json()["error"]["message"]
    assert client.delete("/v1/tokens/t-bob", headers=OPERATOR).status_code == 204


def test_an_expired_token_is_refused_even_when_the_members_service_still_answers_for_it(client, members):
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    response = client.get("/v1/whoami", headers=members.token_for("ann", expires_at=past))
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_whoami_tells_a_signed_in_member_their_networks_token_and_expiry(client, members):
    later = (datetime.now(UTC) + timedelta(hours=8)).replace(microsecond=0)
    headers = members.token_for("ann", facilitates=["wijk-noord"], member_of=["buurt-zuid"],
                                expires_at=later.isoformat(), token_id="s-ann")
    answer = client.get("/v1/whoami", headers=headers).json()
    assert answer["member_of"] == ["buurt-zuid", "wijk-noord"]
    assert (answer["token_id"], datetime.fromisoformat(answer["expires_at"])) == ("s-ann", later)


def test_an_operators_sign_in_acts_with_the_operators_authority_and_keeps_its_member_id(client, members):
    headers = members.token_for("olga", operator=True, token_id="s-olga")
    answer = client.get("/v1/whoami", headers=headers).json()
    assert (answer["operator"], answer["member_id"]) == (True, "olga")
    assert client.delete("/v1/tokens/t1", headers=headers).status_code == 404  # got through: no such token
    assert client.get("/v1/members", headers=headers).status_code == 200


def test_a_facilitator_lists_the_members_of_the_network_they_facilitate(client, members):
    headers = members.token_for("fenna", facilitates=["wijk-noord"])
    response = client.get("/v1/members?network_id=wijk-noord", headers=headers)
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["items"]] == ["ann"]
    assert client.get("/v1/members?network_id=elsewhere", headers=headers).status_code == 403
