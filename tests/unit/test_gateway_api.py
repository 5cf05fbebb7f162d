"""The admin API's routes against hand-written fakes of the services' RPC contracts (members, memberships,
access, health, OpenAPI). The network routes are in test_gateway_networks_api.py."""

import warnings

import pytest
from prometheus_client import REGISTRY

from services.common.config import Settings
from services.gateway.admin.app import create_app
from services.networks.schemas import ListNetworks
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "operator-secret"


@pytest.fixture
def networks():
    fake = FakeNetworks()
    fake.add("wijk-noord", "neighbourhood")
    fake.add("elsewhere", "local")
    return fake


@pytest.fixture
def members(networks):
    fake = FakeMembers(networks)
    fake.add("ann", ["wijk-noord"])
    fake.add("bob", ["elsewhere"])
    return fake


@pytest.fixture
def client(members, networks):
    app = create_app(Settings(operator_token=OPERATOR_TOKEN), FakeServices(members=members, networks=networks),
                     readiness=FakeReadiness({"rabbitmq": "ok", "members": "ok"}))
    return TestClient(app)


OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def test_the_operator_registers_a_member_and_gets_201(client):
    response = client.post("/v1/members", headers=OPERATOR,
                           json={"name": "Nel", "email": "nel@example.org", "perspectives": ["resident"]})
    assert response.status_code == 201
    assert response.json()["name"] == "Nel"


def test_only_the_fields_sent_reach_the_service(client, members):
    client.post("/v1/members", headers=OPERATOR, json={"name": "Nel", "email": "NEL@example.org",
                                                       "perspectives": ["resident"]})
    assert members.calls[-1] == ("register_member", {"name": "Nel", "email": "nel@example.org",
                                                     "perspectives": ["resident"]})


def test_a_coordinators_search_is_restricted_to_their_networks(client, members):
    response = client.get("/v1/members?perspective=resident", headers=members.token_for("coord", ["wijk-noord"]))
    assert response.status_code == 200
    assert members.calls[-1] == ("search_members", {"page_size": 50, "perspective": "resident"})
    assert members.callers[-1] == {"kind": "member", "member_id": "coord", "administers": ["wijk-noord"],
                                   "member_of": ["wijk-noord"]}  # the members service limits the search to these
    assert [m["id"] for m in response.json()["items"]] == ["ann"]


def test_a_coordinator_may_not_search_another_network(client, members):
    response = client.get("/v1/members?network_id=elsewhere", headers=members.token_for("coord", ["wijk-noord"]))
    assert response.status_code == 403


def test_a_plain_member_may_not_search(client, members):
    assert client.get("/v1/members", headers=members.token_for("ann")).status_code == 403


def test_a_member_reads_themself_but_not_another(client, members):
    headers = members.token_for("ann")
    assert client.get("/v1/members/ann", headers=headers).status_code == 200
    assert client.get("/v1/members/bob", headers=headers).status_code == 403


def test_a_coordinator_reads_members_of_their_network_only(client, members):
    headers = members.token_for("coord", ["wijk-noord"])
    assert client.get("/v1/members/ann", headers=headers).status_code == 200
    assert client.get("/v1/members/bob", headers=headers).status_code == 403


def test_a_missing_member_is_404(client):
    assert client.get("/v1/members/nobody", headers=OPERATOR).status_code == 404


def test_a_coordinator_may_fix_a_name_but_not_change_consent(client, members):
    headers = members.token_for("coord", ["wijk-noord"])
    assert client.patch("/v1/members/ann", headers=headers, json={"name": "Anna"}).status_code == 200
    response = client.patch("/v1/members/ann", headers=headers, json={"findable_by_expertise": True})
    assert response.status_code == 403


def test_a_member_changes_their_own_consent(client, members):
    response = client.patch("/v1/members/ann", headers=members.token_for("ann"),
                            json={"named_in_shared_outputs": True})
    assert response.status_code == 200
    assert members.calls[-1] == ("update_member", "ann", {"named_in_shared_outputs": True})


def test_an_empty_patch_is_422(client):
    assert client.patch("/v1/members/ann", headers=OPERATOR, json={}).status_code == 422


def test_a_coordinator_sets_roles_in_their_own_network_only(client, members):
    headers = members.token_for("coord", ["wijk-noord"])
    response = client.put("/v1/networks/wijk-noord/members/bob", headers=headers, json={"role": "facilitator"})
    assert (response.status_code, response.json()["role"]) == (200, "facilitator")
    assert client.put("/v1/networks/elsewhere/members/bob", headers=headers, json={}).status_code == 403


def test_setting_a_membership_in_an_unknown_network_is_404_naming_the_network(client):
    response = client.put("/v1/networks/nowhere/members/ann", headers=OPERATOR, json={"role": "participant"})
    assert response.status_code == 404
    assert response.json()["error"]["violations"] == [{"field": "network_id", "rule": "exists",
                                                       "message": "no such network"}]


def test_setting_a_membership_in_an_archived_network_is_409(client, networks):
    networks.networks["elsewhere"]["status"] = "archived"
    response = client.put("/v1/networks/elsewhere/members/ann", headers=OPERATOR, json={"role": "participant"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "conflict")


def test_a_member_leaves_a_network_with_204(client, members):
    response = client.delete("/v1/networks/wijk-noord/members/ann", headers=members.token_for("ann"))
    assert (response.status_code, response.content) == (204, b"")


def test_export_and_erasure_are_for_the_member_or_the_operator(client, members):
    ann = members.token_for("ann")
    coordinator = members.token_for("coord", ["wijk-noord"])
    assert client.get("/v1/members/ann/export", headers=ann).status_code == 200
    assert client.get("/v1/members/ann/export", headers=coordinator).status_code == 403
    assert client.delete("/v1/members/ann", headers=coordinator).status_code == 403
    response = client.delete("/v1/members/ann", headers=ann)
    assert (response.status_code, response.json()["member_id"]) == (200, "ann")


def test_changes_to_access_make_the_gateway_forget_cached_principals(client, members):
    headers = members.token_for("coord", ["wijk-noord"])
    client.get("/v1/whoami", headers=headers)
    client.put("/v1/networks/wijk-noord/members/ann", headers=headers, json={"role": "coordinator"})
    client.get("/v1/whoami", headers=headers)
    assert [c[0] for c in members.calls].count("authenticate") == 2


def test_removing_a_membership_makes_the_gateway_forget_cached_principals(client, members):
    headers = members.token_for("coord", ["wijk-noord"])
    client.get("/v1/whoami", headers=headers)
    client.delete("/v1/networks/wijk-noord/members/coord", headers=headers)  # a coordinator steps down
    client.get("/v1/whoami", headers=headers)
    assert [c[0] for c in members.calls].count("authenticate") == 2


def test_only_the_operator_issues_tokens_and_the_plaintext_is_not_cached(client, members):
    assert client.post("/v1/members/ann/tokens", headers=members.token_for("ann"), json={}).status_code == 403
    response = client.post("/v1/members/ann/tokens", headers=OPERATOR, json={"label": "laptop"})
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["token"] == "plain"
    assert client.delete("/v1/tokens/t1", headers=OPERATOR).status_code == 204


def test_whoami_describes_the_principal(client, members):
    response = client.get("/v1/whoami", headers=members.token_for("coord", ["b", "a"], ["c"]))
    assert response.json() == {"operator": False, "member_id": "coord", "administers": ["a", "b"],
                               "facilitates": ["c"], "member_of": ["a", "b", "c"], "token_id": "t-coord",
                               "expires_at": None}
    assert client.get("/v1/whoami", headers=OPERATOR).json() == {
        "operator": True, "member_id": None, "administers": [], "facilitates": [], "member_of": [], "token_id": None,
        "expires_at": None}


def test_the_correlation_id_reaches_the_service_call_and_comes_back(client, members):
    response = client.get("/v1/members/ann", headers={**OPERATOR, "X-Correlation-ID": "req-1"})
    assert response.headers["x-correlation-id"] == "req-1"
    assert members.correlation_ids[-1] == "req-1"


def test_a_new_correlation_id_replaces_a_missing_or_unsafe_one(client):
    first = client.get("/healthz").headers["x-correlation-id"]
    second = client.get("/healthz", headers={"X-Correlation-ID": "bad\tid with spaces"}).headers["x-correlation-id"]
    assert len(first) == 32 and len(second) == 32 and first != second


def test_healthz_needs_no_dependency_and_readyz_reports_each_check(members):
    not_ready = FakeReadiness({"rabbitmq": "ok", "members": "unavailable: not running"})
    client = TestClient(create_app(Settings(), members, readiness=not_ready))
    assert client.get("/healthz").json() == {"status": "ok", "checks": {}}
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["members"].startswith("unavailable")


def test_request_metrics_are_labelled_by_route_template_not_raw_path(client):
    labels = {"method": "GET", "route": "/v1/members/{member_id}", "status": "200"}
    before = REGISTRY.get_sample_value("kring_http_requests_total", labels) or 0
    client.get("/v1/members/ann", headers=OPERATOR)
    assert REGISTRY.get_sample_value("kring_http_requests_total", labels) == before + 1


def test_the_openapi_document_and_docs_are_served(client):
    document = client.get("/openapi.json").json()
    assert "/v1/members/{member_id}/export" in document["paths"]
    assert "RegisterMember" in document["components"]["schemas"]
    error = document["paths"]["/v1/members"]["post"]["responses"]["422"]
    assert error["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert client.get("/docs").status_code == 200


def test_the_openapi_document_describes_every_network_route_with_the_services_models(client):
    document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert set(paths["/v1/networks"]) == {"get", "post"}
    assert set(paths["/v1/networks/{network_id}"]) == {"get", "patch"}
    for path in ("/archive", "/tree", "/health", "/members/{member_id}"):
        assert f"/v1/networks/{{network_id}}{path}" in paths
    assert {"CreateNetwork", "UpdateNetwork", "NetworkOut", "NetworkPage", "NetworkNode", "HealthReport"} <= set(
        document["components"]["schemas"])
    created = paths["/v1/networks"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/NetworkOut")
    assert "404" in paths["/v1/networks/{network_id}/members/{member_id}"]["put"]["responses"]


def test_the_network_directorys_query_parameters_mirror_the_services_list_query(client):
    parameters = client.get("/openapi.json").json()["paths"]["/v1/networks"]["get"]["parameters"]
    # network_ids is for internal scoping, not a directory filter
    assert {p["name"] for p in parameters} == set(ListNetworks.model_fields) - {"network_ids"}
