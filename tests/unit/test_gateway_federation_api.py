"""Federation in the admin API: links, blocks, partners, feeds and delivery logs, who may call each route and
what it answers, against hand-written fakes of the federation, networks and members services."""

import warnings

import pytest

from services.common.config import Settings
from services.common.errors import PermissionDenied, Unauthenticated
from services.gateway.admin.app import create_app
from services.gateway.partner.auth import PartnerAuthenticator
from tests.support.http import error
from tests.unit.federation_fakes import FakeFederation
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
def networks():
    fake = FakeNetworks()
    for network_id in ("wijk-noord", "beteroud", "werkplaats-zuid"):
        fake.add(network_id)
    return fake


@pytest.fixture
def federation(networks):
    return FakeFederation(networks)


@pytest.fixture
def members(networks):
    return FakeMembers(networks)


@pytest.fixture
def partner_keys(federation):
    return PartnerAuthenticator(federation.call)


@pytest.fixture
def client(members, networks, federation, partner_keys):
    app = create_app(Settings(operator_token=OPERATOR_TOKEN),
                     FakeServices(members=members, networks=networks, federation=federation),
                     readiness=FakeReadiness({}))
    app.state.partner_keys = partner_keys
    return TestClient(app)


@pytest.fixture
def noord(members):
    """Coordinates wijk-noord, the requesting side."""
    return members.token_for("ann", administers=["wijk-noord"])


@pytest.fixture
def beteroud(members):
    """Coordinates beteroud, the side asked."""
    return members.token_for("bob", administers=["beteroud"])


@pytest.fixture
def zuid(members):
    return members.token_for("cas", administers=["werkplaats-zuid"])


@pytest.fixture
def link(federation):
    return federation.add_link("wijk-noord", "beteroud")


ASK = {"requester_network_id": "wijk-noord", "target_network_id": "beteroud"}


# --- links -------------------------------------------------------------------------------------------------------


def test_a_coordinator_asks_to_link_their_network_and_asking_again_returns_the_same_link_with_200(client, noord):
    first = client.post("/v1/links", json={**ASK, "policy": {"visibilities": ["federation"], "themes": ["Armoede"]}},
                        headers=noord)
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["requester_policy"]) == (
        "requested", {"visibilities": ["federation"], "themes": ["armoede"]})
    again = client.post("/v1/links", json=ASK, headers=noord)
    assert (again.status_code, again.json()["link_id"]) == (200, first.json()["link_id"])


def test_asking_for_a_network_you_do_not_coordinate_is_403_and_asks_nothing(client, beteroud, federation):
    assert client.post("/v1/links", json=ASK, headers=beteroud).status_code == 403
    assert federation.writes() == []


@pytest.mark.parametrize(("body", "expected"), [
    ({**ASK, "policy": {"visibilities": ["everyone"]}}, {("policy.visibilities.0", "enum")}),
    ({**ASK, "policy": {"visibilities": ["linked"], "themes": ["t"] * 21}}, {("policy.themes", "too_long")}),
    ({**ASK, "requester_network_id": "no spaces"}, {("requester_network_id", "string_pattern_mismatch")}),
    ({**ASK, "colour": "red"}, {("colour", "extra_forbidden")}),
])
def test_a_bad_link_request_is_422_naming_the_field(client, noord, body, expected):
    status, code, found = error(client.post("/v1/links", json=body, headers=noord))
    assert (status, code, found) == (422, "validation_failed", expected)


def test_a_link_policy_cannot_carry_network_only_outputs(client, noord):
    response = client.post("/v1/links", json={**ASK, "policy": {"visibilities": ["network"]}}, headers=noord)
    assert error(response) == (422, "validation_failed", {("policy.visibilities", "shareable_only")})


def test_the_coordinators_of_either_side_read_a_link_and_nobody_else(client, link, noord, beteroud, zuid):
    for token in (noord, beteroud, OPERATOR):
        assert client.get(f"/v1/links/{link['link_id']}", headers=token).status_code == 200
    assert client.get(f"/v1/links/{link['link_id']}", headers=zuid).status_code == 403
    assert client.get("/v1/links/no-such-link", headers=OPERATOR).status_code == 404


def test_the_asked_side_accepts_with_its_own_policy_and_the_asking_side_may_not(client, link, noord, beteroud):
    assert client.post(f"/v1/links/{link['link_id']}/accept", headers=noord).status_code == 403
    response = client.post(f"/v1/links/{link['link_id']}/accept", json={"policy": {"visibilities": ["public"]}},
                           headers=beteroud)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["target_policy"]["visibilities"]) == ("active", ["public"])


def test_accepting_without_a_body_keeps_the_default_policy(client, link, beteroud):
    response = client.post(f"/v1/links/{link['link_id']}/accept", headers=beteroud)
    assert (response.status_code, response.json()["status"]) == (200, "active")


def test_the_asked_side_rejects_and_a_rejected_link_cannot_be_accepted(client, link, noord, beteroud):
    assert client.post(f"/v1/links/{link['link_id']}/reject", headers=noord).status_code == 403
    assert client.post(f"/v1/links/{link['link_id']}/reject", headers=beteroud).json()["status"] == "rejected"
    status, code, _ = error(client.post(f"/v1/links/{link['link_id']}/accept", headers=beteroud))
    assert (status, code) == (409, "illegal_transition")


def test_either_side_revokes_a_link(client, federation, noord, beteroud, zuid):
    for token in (noord, beteroud):
        link = federation.add_link("wijk-noord", "beteroud", status="active")
        assert client.post(f"/v1/links/{link['link_id']}/revoke", headers=zuid).status_code == 403
        assert client.post(f"/v1/links/{link['link_id']}/revoke", headers=token).json()["status"] == "revoked"


def test_each_side_sets_the_policy_of_its_own_outgoing_flow(client, link, noord, beteroud):
    path = f"/v1/links/{link['link_id']}/policy"
    body = {"network_id": "wijk-noord", "policy": {"visibilities": ["federation"]}}
    assert client.put(path, json=body, headers=beteroud).status_code == 403
    response = client.put(path, json=body, headers=noord)
    assert (response.status_code, response.json()["requester_policy"]["visibilities"]) == (200, ["federation"])


def test_a_policy_for_a_network_that_is_not_a_side_is_422(client, link, noord):
    response = client.put(f"/v1/links/{link['link_id']}/policy",
                          json={"network_id": "werkplaats-zuid", "policy": {"visibilities": ["linked"]}},
                          headers=noord)
    assert error(response) == (422, "validation_failed", {("network_id", "side_of_link")})


def test_a_networks_coordinator_lists_its_links_by_status(client, federation, noord, beteroud):
    federation.add_link("wijk-noord", "beteroud", status="active")
    federation.add_link("werkplaats-zuid", "wijk-noord")
    federation.add_link("werkplaats-zuid", "beteroud")
    response = client.get("/v1/networks/wijk-noord/links", params={"status": "requested"}, headers=noord)
    assert [(i["requester_network_id"], i["status"]) for i in response.json()["items"]] == [
        ("werkplaats-zuid", "requested")]
    assert len(client.get("/v1/networks/wijk-noord/links", headers=noord).json()["items"]) == 2
    assert client.get("/v1/networks/wijk-noord/links", headers=beteroud).status_code == 403
    status, _, found = error(client.get("/v1/networks/wijk-noord/links", params={"status": "maybe"}, headers=noord))
    assert (status, found) == (422, {("status", "enum")})


# --- blocks ------------------------------------------------------------------------------------------------------


def test_the_operator_blocks_a_network_and_its_open_links_end(client, federation, noord):
    federation.add_link("wijk-noord", "beteroud", status="active")
    assert client.post("/v1/networks/wijk-noord/block", headers=noord).status_code == 403
    response = client.post("/v1/networks/wijk-noord/block", json={"reason": "spam"}, headers=OPERATOR)
    assert response.status_code == 200, response.text
    assert [link["status"] for link in response.json()["ended_links"]] == ["blocked"]
    assert client.post("/v1/networks/no-such/block", headers=OPERATOR).status_code == 404


# --- partners ----------------------------------------------------------------------------------------------------


def test_the_operator_registers_a_partner_and_sees_its_key_once(client):
    response = client.post("/v1/partners", json={"name": "Movisie", "network_ids": ["beteroud"]}, headers=OPERATOR)
    assert response.status_code == 201, response.text
    partner = response.json()
    assert partner["api_key"].startswith("kpk_")
    shown = client.get(f"/v1/partners/{partner['partner_id']}", headers=OPERATOR).json()
    assert "api_key" not in shown
    listed = client.get("/v1/partners", headers=OPERATOR).json()["items"]
    assert [p["name"] for p in listed] == ["Movisie"] and "api_key" not in listed[0]


def test_a_network_belongs_to_one_partner_at_most(client):
    body = {"name": "Movisie", "network_ids": ["beteroud"]}
    assert client.post("/v1/partners", json=body, headers=OPERATOR).status_code == 201
    assert error(client.post("/v1/partners", json=body, headers=OPERATOR))[:2] == (409, "conflict")


@pytest.mark.parametrize(("method", "path"), [
    ("post", "/v1/partners"), ("get", "/v1/partners"), ("get", "/v1/partners/p1"), ("post", "/v1/partners/p1/revoke"),
    ("post", "/v1/partners/p1/rotate-key"), ("post", "/v1/partners/p1/block")])
def test_partners_are_the_operators_alone(client, federation, noord, method, path):
    federation.add_partner("p1", ["wijk-noord"])
    body = {"json": {"name": "X", "network_ids": ["wijk-noord"]}} if (method, path) == ("post", "/v1/partners") else {}
    assert getattr(client, method)(path, headers=noord, **body).status_code == 403
    assert federation.writes() == []


def test_revoking_a_partner_refuses_its_cached_key_on_this_gateway_at_once(client, federation, partner_keys):
    key = federation.add_partner("p1", ["wijk-noord"])
    assert partner_keys.authenticate(key).partner_id == "p1"  # cached now
    assert client.post("/v1/partners/p1/revoke", headers=OPERATOR).json()["status"] == "revoked"
    with pytest.raises(Unauthenticated):
        partner_keys.authenticate(key)


def test_rotating_a_key_gives_a_new_one_with_201_and_the_old_one_stops_working(client, federation, partner_keys):
    old = federation.add_partner("p1", ["wijk-noord"])
    partner_keys.authenticate(old)
    response = client.post("/v1/partners/p1/rotate-key", headers=OPERATOR)
    assert response.status_code == 201
    new = response.json()["api_key"]
    assert new != old and partner_keys.authenticate(new).partner_id == "p1"
    with pytest.raises(Unauthenticated):
        partner_keys.authenticate(old)


def test_blocking_a_partner_makes_its_key_permission_denied_at_once(client, federation, partner_keys):
    key = federation.add_partner("p1", ["wijk-noord"])
    partner_keys.authenticate(key)
    assert client.post("/v1/partners/p1/block", json={"reason": "abuse"}, headers=OPERATOR).status_code == 200
    with pytest.raises(PermissionDenied):
        partner_keys.authenticate(key)
    assert client.post("/v1/partners/p1/rotate-key", headers=OPERATOR).status_code == 403


def test_an_unknown_partner_is_404(client):
    assert client.get("/v1/partners/nobody", headers=OPERATOR).status_code == 404


# --- feeds and deliveries ----------------------------------------------------------------------------------------


def test_the_people_inside_a_network_read_its_feed_in_order_with_tombstones(client, federation, members):
    federation.share("o-1", "beteroud", ["wijk-noord"])
    federation.share("o-2", "beteroud", ["wijk-noord"])
    federation.retract("o-2")
    member = members.token_for("eva", member_of=["wijk-noord"])
    response = client.get("/v1/networks/wijk-noord/feed", params={"page_size": 1}, headers=member)
    assert response.status_code == 200, response.text
    first = response.json()
    assert [i["output"]["output_id"] for i in first["items"]] == ["o-1"]
    second = client.get("/v1/networks/wijk-noord/feed", params={"page_token": first["next_page_token"]},
                        headers=member).json()
    assert second["items"][0]["output"] == {"output_id": "o-2", "origin_network_id": "elsewhere",
                                            "retracted": True, "retracted_at": second["items"][0]["output"][
                                                "retracted_at"]}


def test_outsiders_may_not_read_a_networks_feed(client, beteroud, members):
    assert client.get("/v1/networks/wijk-noord/feed", headers=beteroud).status_code == 403
    facilitator = members.token_for("dia", facilitates=["wijk-noord"])
    assert client.get("/v1/networks/wijk-noord/feed", headers=facilitator).status_code == 200


def test_the_feed_of_an_unknown_network_is_404(client):
    assert client.get("/v1/networks/no-such/feed", headers=OPERATOR).status_code == 404


def test_the_origins_coordinators_read_who_received_an_output(client, federation, noord, beteroud):
    federation.share("o-1", "wijk-noord", ["beteroud", "werkplaats-zuid"])
    response = client.get("/v1/outputs/o-1/deliveries", headers=noord)
    assert response.status_code == 200, response.text
    assert response.json()["origin_network_id"] == "wijk-noord"
    assert [d["network_id"] for d in response.json()["items"]] == ["beteroud", "werkplaats-zuid"]
    assert client.get("/v1/outputs/o-1/deliveries", headers=beteroud).status_code == 403  # a receiver
    assert client.get("/v1/outputs/no-such/deliveries", headers=OPERATOR).status_code == 404


def test_partner_output_ids_longer_than_a_uuid_are_accepted_in_paths(client, federation):
    federation.share("p-" + "0" * 36, "wijk-noord", ["beteroud"])
    assert client.get(f"/v1/outputs/p-{'0' * 36}/deliveries", headers=OPERATOR).status_code == 200
