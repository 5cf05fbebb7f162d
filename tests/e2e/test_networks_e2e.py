"""Networks through the admin API alone, with the whole stack running as separate processes: the hierarchy,
coordinators' scope, the directory, the tree, the health report, archiving, and memberships that need an
existing network.

The stack is shared by every test of a session, so each test names its networks with a fresh tag and filters
the directory by it.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.support.http import error
from tests.support.naming import fresh_tag
from tests.support.waiting import eventually


def create_network(client: httpx.Client, name: str, level: str, parent_id: str | None = None, *,
                   kind: str = "learning_circle", theme: str = "loneliness among older residents",
                   **extra: Any) -> dict:
    body = {"name": name, "level": level, "kind": kind, "theme": theme, **extra}
    if parent_id:
        body["parent_id"] = parent_id
    response = client.post("/v1/networks", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def register(client: httpx.Client, name: str, perspectives: list[str]) -> dict:
    email = f"{name.split()[0].lower()}.{uuid.uuid4().hex[:8]}@example.org"
    response = client.post("/v1/members", json={"name": name, "email": email, "perspectives": perspectives})
    assert response.status_code == 201, response.text
    return response.json()


def set_role(client: httpx.Client, network_id: str, member_id: str, role: str) -> dict:
    response = client.put(f"/v1/networks/{network_id}/members/{member_id}", json={"role": role})
    assert response.status_code == 200, response.text
    return response.json()


def token_for(client: httpx.Client, member_id: str) -> str:
    response = client.post(f"/v1/members/{member_id}/tokens", json={"label": "e2e"})
    assert response.status_code == 201, response.text
    return response.json()["token"]


@pytest.fixture
def operator(stack):
    with stack.client() as client:
        yield client


def test_a_national_regional_local_neighbourhood_tree_is_built_and_nests(operator):
    tag = fresh_tag()
    national = create_network(operator, f"BeterOud {tag}", "national", kind="community_of_practice")
    regional = create_network(operator, f"Werkplaats Utrecht {tag}", "regional", national["id"], kind="werkplaats",
                              region="Utrecht")
    local = create_network(operator, f"Leerkring Utrecht-Noord {tag}", "local", regional["id"], region="Utrecht")
    neighbourhood = create_network(operator, f"Buurtteam Overvecht {tag}", "neighbourhood", local["id"],
                                   cadence_weeks=6, start_date="2025-02-03", requires_preparation=True,
                                   unprepared_policy="flag")
    assert neighbourhood["parent_id"] == local["id"]
    assert (neighbourhood["cadence_weeks"], neighbourhood["start_date"], neighbourhood["unprepared_policy"]) == (
        6, "2025-02-03", "flag")

    tree = operator.get(f"/v1/networks/{national['id']}/tree")
    assert tree.status_code == 200, tree.text

    def chain(node: dict) -> list[tuple[str, str]]:
        below = [step for child in node["children"] for step in chain(child)]
        return [(node["id"], node["level"]), *below]

    assert chain(tree.json()) == [(national["id"], "national"), (regional["id"], "regional"),
                                  (local["id"], "local"), (neighbourhood["id"], "neighbourhood")]
    assert operator.get(f"/v1/networks/{local['id']}/tree").json()["children"][0]["id"] == neighbourhood["id"]
    assert operator.get(f"/v1/networks/{neighbourhood['id']}").json()["name"] == f"Buurtteam Overvecht {tag}"


def test_a_regional_network_under_a_local_one_is_422_naming_the_rule(operator):
    tag = fresh_tag()
    regional = create_network(operator, f"Werkplaats {tag}", "regional", kind="werkplaats")
    local = create_network(operator, f"Leerkring {tag}", "local", regional["id"])
    response = operator.post("/v1/networks", json={"name": f"Misplaced {tag}", "level": "regional",
                                                   "kind": "werkplaats", "theme": "a theme", "parent_id": local["id"]})
    assert error(response) == (422, "validation_failed", {("parent_id", "level_below_parent")})


def test_a_coordinator_acts_on_their_own_network_only(stack, operator):
    tag = fresh_tag()
    national = create_network(operator, f"National {tag}", "national")
    mine = create_network(operator, f"Werkplaats Mine {tag}", "regional", national["id"], kind="werkplaats")
    other = create_network(operator, f"Werkplaats Other {tag}", "regional", national["id"], kind="werkplaats")
    coordinator = register(operator, "Karin Kwartiermaker", ["municipality_policy"])
    set_role(operator, mine["id"], coordinator["id"], "coordinator")

    with stack.client(token_for(operator, coordinator["id"])) as as_coordinator:
        assert as_coordinator.get("/v1/whoami").json()["administers"] == [mine["id"]]

        child = as_coordinator.post("/v1/networks", json={"name": f"Leerkring {tag}", "level": "local",
                                                          "kind": "learning_circle", "theme": "debt, early",
                                                          "parent_id": mine["id"]})
        assert (child.status_code, child.json()["parent_id"]) == (201, mine["id"]), child.text
        elsewhere = as_coordinator.post("/v1/networks", json={"name": f"Leerkring elsewhere {tag}", "level": "local",
                                                              "kind": "learning_circle", "theme": "debt, early",
                                                              "parent_id": other["id"]})
        assert error(elsewhere) == (403, "permission_denied", set())
        top_level = as_coordinator.post("/v1/networks", json={"name": f"Own {tag}", "level": "national",
                                                              "kind": "learning_circle", "theme": "debt, early"})
        assert top_level.status_code == 403

        patched = as_coordinator.patch(f"/v1/networks/{mine['id']}", json={"cadence_weeks": 6,
                                                                           "urgency": "more households in debt"})
        assert (patched.status_code, patched.json()["cadence_weeks"]) == (200, 6), patched.text
        assert as_coordinator.patch(f"/v1/networks/{other['id']}", json={"cadence_weeks": 2}).status_code == 403
        assert as_coordinator.post(f"/v1/networks/{other['id']}/archive").status_code == 403
        assert as_coordinator.get(f"/v1/networks/{other['id']}/health").status_code == 403
        # the directory is open to every authenticated caller
        assert as_coordinator.get(f"/v1/networks/{other['id']}").status_code == 200

    assert operator.get(f"/v1/networks/{other['id']}").json()["cadence_weeks"] is None


def test_the_directory_filters_by_level_kind_and_theme(stack, operator):
    tag = fresh_tag()
    national = create_network(operator, f"Kennisnetwerk {tag}", "national", kind="knowledge_network",
                              theme=f"Informal care {tag} and loneliness")
    create_network(operator, f"Werkplaats {tag}", "regional", national["id"], kind="werkplaats",
                   theme=f"Poverty {tag} in the neighbourhood", region="Gelderland")
    create_network(operator, f"Leerkring {tag}", "regional", national["id"], kind="learning_circle",
                   theme=f"POVERTY {tag.upper()} and debt")

    def names(**params: str) -> list[str]:
        with stack.client(token_for(operator, member["id"])) as client:
            response = client.get("/v1/networks", params={"page_size": "200", **params})
        assert response.status_code == 200, response.text
        return sorted(n["name"] for n in response.json()["items"])

    member = register(operator, "Pim Praktijk", ["practitioner"])  # a plain member reads the directory too
    assert names(theme=tag) == [f"Kennisnetwerk {tag}", f"Leerkring {tag}", f"Werkplaats {tag}"]
    assert names(theme=f"poverty {tag}") == [f"Leerkring {tag}", f"Werkplaats {tag}"]  # case-insensitive
    assert names(theme=tag, level="regional") == [f"Leerkring {tag}", f"Werkplaats {tag}"]
    assert names(theme=tag, kind="werkplaats") == [f"Werkplaats {tag}"]
    assert names(theme=tag, level="national", kind="knowledge_network") == [f"Kennisnetwerk {tag}"]
    assert names(parent_id=national["id"], region="Gelderland") == [f"Werkplaats {tag}"]
    assert names(theme=tag, level="local") == []

    bad = operator.get("/v1/networks", params={"level": "planetary"})
    assert error(bad)[0] == 422 and "level" in {field for field, _ in error(bad)[2]}


def test_the_health_report_has_nine_steps_and_follows_the_facilitators_added(stack, operator):
    tag = fresh_tag()
    network = create_network(operator, f"Community of practice {tag}", "local", kind="community_of_practice",
                             theme="loneliness among older residents", urgency="more older residents live alone")
    health = f"/v1/networks/{network['id']}/health"

    first = operator.get(health)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["network_id"], report["network_name"]) == (network["id"], network["name"])
    assert [s["step"] for s in report["steps"]] == list(range(1, 10))
    assert (report["language"], first.headers["content-language"]) == ("nl", "nl")  # Dutch by default
    assert (report["steps"][3]["status"], report["steps"][3]["little_data"]) == ("not_shown", True)  # no experiments
    assert report["steps"][4]["status"] == "not_shown"

    practitioner = register(operator, "Fatima Facilitator", ["practitioner"])
    lived = register(operator, "Lex Ervaring", ["lived_experience"])
    set_role(operator, network["id"], practitioner["id"], "facilitator")
    set_role(operator, network["id"], lived["id"], "facilitator")

    english = {"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"}
    step5 = eventually(lambda: operator.get(health, headers=english).json()["steps"][4],
                       "step 5 shows the two facilitators",
                       accept=lambda step: step["status"] == "shown")
    assert step5["key"] == "two_facilitators"
    assert step5["evidence"] == "2 facilitators: lived experience and practitioner"
    dutch = operator.get(health).json()["steps"][4]
    assert (dutch["title"], dutch["evidence"]) == ("Twee begeleiders uit verschillende perspectieven",
                                                   "2 begeleiders: ervaringsdeskundige en praktijk")
    listed = operator.get(f"/v1/networks/{network['id']}").json()
    assert sorted(p["member_id"] for p in listed["facilitators"]) == sorted([practitioner["id"], lived["id"]])

    with stack.client(token_for(operator, lived["id"])) as as_facilitator:
        assert as_facilitator.get(health).status_code == 200
    bystander = register(operator, "Bea Buur", ["resident"])
    set_role(operator, network["id"], bystander["id"], "participant")
    with stack.client(token_for(operator, bystander["id"])) as as_participant:
        assert as_participant.get(health).status_code == 403


def test_archiving_a_network_with_active_children_is_409_and_without_them_succeeds(operator):
    tag = fresh_tag()
    parent = create_network(operator, f"Werkplaats {tag}", "regional", kind="werkplaats", theme=f"archive {tag}")
    child = create_network(operator, f"Leerkring {tag}", "local", parent["id"], theme=f"archive {tag}")

    refused = operator.post(f"/v1/networks/{parent['id']}/archive")
    assert error(refused) == (409, "conflict", {("status", "no_active_children")})

    assert operator.post(f"/v1/networks/{child['id']}/archive").json()["status"] == "archived"
    archived = operator.post(f"/v1/networks/{parent['id']}/archive")
    assert (archived.status_code, archived.json()["status"]) == (200, "archived"), archived.text

    active = operator.get("/v1/networks", params={"theme": tag}).json()["items"]
    assert active == []
    listed = operator.get("/v1/networks", params={"theme": tag, "status": "archived"}).json()["items"]
    assert sorted(n["id"] for n in listed) == sorted([parent["id"], child["id"]])
    again = operator.post(f"/v1/networks/{parent['id']}/archive")
    assert error(again)[:2] == (409, "illegal_transition")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "", None), ("PATCH", "", {"name": "X"}), ("POST", "/archive", None), ("GET", "/tree", None),
    ("GET", "/health", None),
], ids=["get", "patch", "archive", "tree", "health"])
def test_an_unknown_network_is_404_with_the_uniform_error_body(operator, method, path, body):
    response = operator.request(method, f"/v1/networks/no-such-network{path}", json=body)
    assert response.status_code == 404, response.text
    assert response.json() == {"error": {"code": "not_found", "message": "network no-such-network not found",
                                         "violations": []}}


def test_memberships_need_an_existing_network(operator):
    tag = fresh_tag()
    network = create_network(operator, f"Leerkring {tag}", "neighbourhood")
    member = register(operator, "Noor Nieuw", ["resident"])

    unknown = operator.put(f"/v1/networks/no-such-network/members/{member['id']}", json={"role": "participant"})
    assert error(unknown) == (404, "not_found", {("network_id", "exists")})

    assert set_role(operator, network["id"], member["id"], "participant")["role"] == "participant"
    assert [m["network_id"] for m in operator.get(f"/v1/members/{member['id']}").json()["memberships"]] == [
        network["id"]]
    eventually(lambda: operator.get(f"/v1/networks/{network['id']}").json()["member_count"],
               "the network counts its new member",
               accept=lambda count: count == 1)
    assert operator.delete(f"/v1/networks/{network['id']}/members/{member['id']}").status_code == 204
