"""``/v1/networks``: who may create, change, archive and read networks, and what the responses look like,
against hand-written fakes of the networks and members services (tests/unit/gateway_fakes.py)."""

import warnings

import pytest

from services.common.config import Settings
from services.gateway.admin.app import create_app
from tests.support.http import error
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices

with warnings.catch_warnings():  # starlette prefers httpx2 for its test client; httpx works
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR_TOKEN = "operator-secret"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
NEW_LOCAL = {"name": "Leerkring Overvecht", "level": "local", "kind": "learning_circle",
             "theme": "money worries spotted early, together with residents"}


@pytest.fixture
def networks():
    fake = FakeNetworks()
    fake.add("beteroud", "national", kind="community_of_practice", theme="Loneliness and informal care")
    fake.add("werkplaats-utrecht", "regional", "beteroud", kind="werkplaats", theme="Poverty in the neighbourhood",
             region="Utrecht")
    fake.add("werkplaats-zuid", "regional", "beteroud", kind="werkplaats", theme="Youth care", region="Limburg")
    return fake


@pytest.fixture
def members(networks):
    return FakeMembers(networks)


@pytest.fixture
def client(members, networks):
    app = create_app(Settings(operator_token=OPERATOR_TOKEN), FakeServices(members=members, networks=networks),
                     readiness=FakeReadiness({}))
    return TestClient(app)


@pytest.fixture
def coordinator(members):
    """Coordinates werkplaats-utrecht, nothing else."""
    return members.token_for("coord", administers=["werkplaats-utrecht"])


@pytest.fixture
def facilitator(members):
    return members.token_for("facil", facilitates=["werkplaats-utrecht"])


@pytest.fixture
def member(members):
    return members.token_for("ann")


def writes(networks) -> list[str]:
    return [c[0] for c in networks.calls if c[0] in ("create_network", "update_network", "archive_network")]


# --- create -----------------------------------------------------------------------------------------------


def test_the_operator_creates_a_top_level_network_and_gets_201_with_the_network(client, networks):
    body = {"name": "BeterOud Noord", "level": "national", "kind": "community_of_practice",
            "theme": "Loneliness among older people"}
    response = client.post("/v1/networks", headers=OPERATOR, json=body)
    assert response.status_code == 201
    assert response.json()["id"] == "beteroud-noord"
    assert response.json()["coordinators"] == [] and response.json()["status"] == "active"


def test_only_the_fields_sent_reach_the_networks_service(client, networks):
    client.post("/v1/networks", headers=OPERATOR, json={**NEW_LOCAL, "parent_id": "werkplaats-utrecht",
                                                        "theme": "  money worries  "})
    assert networks.calls[-1] == ("create_network", {**NEW_LOCAL, "parent_id": "werkplaats-utrecht",
                                                     "theme": "money worries"})


def test_a_coordinator_creates_a_child_under_the_network_they_administer(client, coordinator):
    response = client.post("/v1/networks", headers=coordinator, json={**NEW_LOCAL, "parent_id": "werkplaats-utrecht"})
    assert (response.status_code, response.json()["parent_id"]) == (201, "werkplaats-utrecht")


def test_a_coordinator_may_not_create_a_child_under_another_network(client, networks, coordinator):
    response = client.post("/v1/networks", headers=coordinator, json={**NEW_LOCAL, "parent_id": "werkplaats-zuid"})
    assert error(response) == (403, "permission_denied", set())
    assert "werkplaats-zuid" in response.json()["error"]["message"]
    assert writes(networks) == []


def test_a_coordinator_may_not_create_a_top_level_network(client, networks, coordinator):
    assert client.post("/v1/networks", headers=coordinator, json=NEW_LOCAL).status_code == 403
    assert writes(networks) == []


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_a_plain_member_or_facilitator_may_not_create_networks(client, request, who):
    body = {**NEW_LOCAL, "parent_id": "werkplaats-utrecht"}
    assert client.post("/v1/networks", headers=request.getfixturevalue(who), json=body).status_code == 403


def test_a_child_at_or_above_its_parents_level_is_422_naming_the_rule(client):
    response = client.post("/v1/networks", headers=OPERATOR,
                           json={**NEW_LOCAL, "level": "national", "parent_id": "werkplaats-utrecht"})
    assert error(response) == (422, "validation_failed", {("parent_id", "level_below_parent")})


@pytest.mark.parametrize(
    ("change", "expected"),
    [({"level": "planetary"}, ("level", "enum")),
     ({"theme": "ab"}, ("theme", "string_too_short")),
     ({"colour": "red"}, ("colour", "extra_forbidden")),
     ({"cadence_weeks": 0}, ("cadence_weeks", "greater_than_equal")),
     ({"parent_id": "no spaces"}, ("parent_id", "string_pattern_mismatch"))],
    ids=["unknown-level", "theme-too-short", "unknown-field", "cadence-zero", "malformed-parent-id"],
)
def test_bad_input_is_422_before_any_service_is_asked(client, networks, change, expected):
    response = client.post("/v1/networks", headers=OPERATOR, json={**NEW_LOCAL, **change})
    status, _, found = error(response)
    assert status == 422 and expected in found
    assert writes(networks) == []


# --- the directory ----------------------------------------------------------------------------------------


def test_any_authenticated_caller_lists_the_directory(client, member):
    response = client.get("/v1/networks", headers=member)
    assert response.status_code == 200
    assert [n["id"] for n in response.json()["items"]] == ["beteroud", "werkplaats-utrecht", "werkplaats-zuid"]
    assert response.json()["next_page_token"] is None


def test_the_directory_needs_a_token(client):
    response = TestClient(client.app).get("/v1/networks")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthenticated")


def test_the_directory_lists_active_networks_unless_asked_for_archived_ones(client, networks, member):
    client.get("/v1/networks", headers=member)
    assert networks.calls[-1] == ("list_networks", {"status": "active", "page_size": 50})
    client.get("/v1/networks?status=archived", headers=member)
    assert networks.calls[-1] == ("list_networks", {"status": "archived", "page_size": 50})


def test_every_directory_filter_reaches_the_service(client, networks, member):
    query = {"level": "regional", "kind": "werkplaats", "theme": "poverty", "parent_id": "beteroud",
             "region": "Utrecht", "page_size": "10", "page_token": "abc"}
    client.get("/v1/networks", headers=member, params=query)
    assert networks.calls[-1] == ("list_networks", {**query, "status": "active", "page_size": 10})


def test_the_directory_filters_by_level_kind_and_theme(client, member):
    def ids(**params):
        return [n["id"] for n in client.get("/v1/networks", headers=member, params=params).json()["items"]]

    assert ids(level="national") == ["beteroud"]
    assert ids(kind="werkplaats", theme="POVERTY") == ["werkplaats-utrecht"]


@pytest.mark.parametrize(("params", "field"), [({"page_size": 0}, "page_size"), ({"page_size": 201}, "page_size"),
                                               ({"level": "planetary"}, "level"), ({"status": "gone"}, "status")])
def test_an_out_of_range_directory_query_is_422_naming_the_parameter(client, member, params, field):
    status, _, found = error(client.get("/v1/networks", headers=member, params=params))
    assert status == 422 and field in {f for f, _ in found}


def test_any_authenticated_caller_reads_a_network(client, member):
    response = client.get("/v1/networks/werkplaats-utrecht", headers=member)
    assert (response.status_code, response.json()["region"]) == (200, "Utrecht")


def test_an_unknown_network_is_404_with_the_uniform_error_body(client):
    response = client.get("/v1/networks/nowhere", headers=OPERATOR)
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "network nowhere not found",
                                         "violations": []}}


def test_the_tree_nests_children_under_their_parents(client, networks, member):
    networks.add("overvecht", "local", "werkplaats-utrecht")
    tree = client.get("/v1/networks/beteroud/tree", headers=member).json()
    assert tree["id"] == "beteroud"
    assert [c["id"] for c in tree["children"]] == ["werkplaats-utrecht", "werkplaats-zuid"]
    assert tree["children"][0]["children"] == [{"id": "overvecht", "name": "Overvecht", "level": "local",
                                                "kind": "learning_circle", "status": "active", "children": []}]


def test_the_tree_of_an_unknown_network_is_404(client, member):
    assert client.get("/v1/networks/nowhere/tree", headers=member).status_code == 404


# --- update and archive -----------------------------------------------------------------------------------


def test_a_coordinator_updates_their_network_with_only_the_fields_sent(client, networks, coordinator):
    response = client.patch("/v1/networks/werkplaats-utrecht", headers=coordinator,
                            json={"cadence_weeks": 6, "urgency": None})
    assert (response.status_code, response.json()["cadence_weeks"]) == (200, 6)
    assert networks.calls[-1] == ("update_network", "werkplaats-utrecht", {"cadence_weeks": 6, "urgency": None})


def test_a_coordinator_may_not_update_another_network(client, networks, coordinator):
    assert client.patch("/v1/networks/werkplaats-zuid", headers=coordinator, json={"name": "Mine"}).status_code == 403
    assert writes(networks) == []


def test_a_facilitator_may_not_update_their_network(client, facilitator):
    response = client.patch("/v1/networks/werkplaats-utrecht", headers=facilitator, json={"name": "Ours"})
    assert response.status_code == 403


@pytest.mark.parametrize(("body", "rule"), [({}, "at_least_one_field"), ({"name": None}, "not_null")])
def test_an_empty_patch_or_nulling_a_required_field_is_422(client, body, rule):
    status, _, found = error(client.patch("/v1/networks/beteroud", headers=OPERATOR, json=body))
    assert status == 422 and rule in {r for _, r in found}


def test_a_coordinator_moves_their_network_under_another_network_they_administer(client, networks, members):
    networks.add("overvecht", "local", "werkplaats-zuid")
    both = members.token_for("coord2", administers=["overvecht", "werkplaats-utrecht"])
    response = client.patch("/v1/networks/overvecht", headers=both, json={"parent_id": "werkplaats-utrecht"})
    assert (response.status_code, response.json()["parent_id"]) == (200, "werkplaats-utrecht")


def test_a_coordinator_may_not_move_their_network_under_a_parent_they_do_not_administer(client, networks, members):
    networks.add("overvecht", "local", "werkplaats-utrecht")
    headers = members.token_for("coord2", administers=["overvecht"])
    response = client.patch("/v1/networks/overvecht", headers=headers, json={"parent_id": "werkplaats-zuid"})
    assert response.status_code == 403
    assert "werkplaats-zuid" in response.json()["error"]["message"]
    assert writes(networks) == []


def test_a_coordinator_may_resend_the_current_parent(client, networks, members):
    networks.add("overvecht", "local", "werkplaats-utrecht")
    headers = members.token_for("coord2", administers=["overvecht"])
    response = client.patch("/v1/networks/overvecht", headers=headers,
                            json={"parent_id": "werkplaats-utrecht", "name": "Overvecht"})
    assert response.status_code == 200


def test_only_the_operator_makes_a_network_top_level(client, networks, coordinator):
    response = client.patch("/v1/networks/werkplaats-utrecht", headers=coordinator, json={"parent_id": None})
    assert response.status_code == 403
    response = client.patch("/v1/networks/werkplaats-utrecht", headers=OPERATOR, json={"parent_id": None})
    assert (response.status_code, response.json()["parent_id"]) == (200, None)


def test_the_operator_moves_a_network_without_a_lookup_first(client, networks):
    client.patch("/v1/networks/werkplaats-zuid", headers=OPERATOR, json={"parent_id": None})
    assert [c[0] for c in networks.calls] == ["update_network"]


def test_updating_an_unknown_network_is_404_for_the_operator_and_403_for_a_coordinator(client, coordinator):
    assert client.patch("/v1/networks/nowhere", headers=OPERATOR, json={"name": "X"}).status_code == 404
    assert client.patch("/v1/networks/nowhere", headers=coordinator, json={"name": "X"}).status_code == 403


def test_a_coordinator_archives_their_network(client, coordinator):
    response = client.post("/v1/networks/werkplaats-utrecht/archive", headers=coordinator)
    assert (response.status_code, response.json()["status"]) == (200, "archived")


def test_a_coordinator_may_not_archive_another_network(client, networks, coordinator):
    assert client.post("/v1/networks/werkplaats-zuid/archive", headers=coordinator).status_code == 403
    assert writes(networks) == []


def test_archiving_a_network_with_active_children_is_409_naming_the_rule(client):
    response = client.post("/v1/networks/beteroud/archive", headers=OPERATOR)
    assert error(response) == (409, "conflict", {("status", "no_active_children")})


def test_updating_an_archived_network_is_409(client, networks):
    networks.networks["werkplaats-zuid"]["status"] = "archived"
    response = client.patch("/v1/networks/werkplaats-zuid", headers=OPERATOR, json={"name": "Zuid"})
    assert error(response) == (409, "illegal_transition", {("status", "illegal_transition")})


# --- health report ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["coordinator", "facilitator"])
def test_the_networks_coordinator_or_facilitator_reads_its_health_report(client, request, who):
    response = client.get("/v1/networks/werkplaats-utrecht/health", headers=request.getfixturevalue(who))
    assert response.status_code == 200
    report = response.json()
    assert report["network_id"] == "werkplaats-utrecht"
    assert [s["step"] for s in report["steps"]] == list(range(1, 10))
    assert (report["language"], report["steps"][3]["title"], response.headers["content-language"]) == ("nl", "Stap 4",
                                                                                                       "nl")
    assert report["steps"][3]["little_data"] is True


@pytest.mark.parametrize(("header", "language"), [
    (None, "nl"), ("en", "en"), ("en-GB,en;q=0.9", "en"), ("nl-NL", "nl"), ("fr, en;q=0.5", "en"), ("fr", "nl"),
    ("en;q=0.3, nl;q=0.8", "nl"), ("en;q=0", "nl"), ("*", "nl"), ("en;q=abc", "nl"),
])
def test_the_health_report_speaks_the_language_accept_language_prefers_dutch_by_default(client, coordinator, networks,
                                                                                          header, language):
    headers = coordinator | ({"Accept-Language": header} if header else {})
    response = client.get("/v1/networks/werkplaats-utrecht/health", headers=headers)
    assert (response.status_code, response.json()["language"], response.headers["content-language"]) == (
        200, language, language)
    assert networks.calls[-1] == ("health_report", "werkplaats-utrecht", {"language": language})


def test_the_operator_reads_any_health_report(client):
    assert client.get("/v1/networks/werkplaats-zuid/health", headers=OPERATOR).status_code == 200


@pytest.mark.parametrize("who", ["coordinator", "facilitator", "member"])
def test_nobody_else_reads_a_networks_health_report(client, networks, request, who):
    response = client.get("/v1/networks/werkplaats-zuid/health", headers=request.getfixturevalue(who))
    assert response.status_code == 403
    assert "health_report" not in [c[0] for c in networks.calls]


def test_the_health_report_of_an_unknown_network_is_404(client):
    assert client.get("/v1/networks/nowhere/health", headers=OPERATOR).status_code == 404


def test_the_directory_reads_pass_the_caller_so_the_service_decides_whose_staff_ids_show(client, networks,
                                                                                          coordinator):
    client.get("/v1/networks", headers=coordinator)
    client.get("/v1/networks/werkplaats-utrecht", headers=coordinator)
    assert [c["administers"] for c in networks.callers[-2:]] == [["werkplaats-utrecht"]] * 2
    assert [call[0] for call in networks.calls[-2:]] == ["list_networks", "get_network"]
