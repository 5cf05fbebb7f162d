"""The demo data set tells a believable story, and loading it through the admin API is idempotent."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import httpx
import pytest
from email_validator import validate_email

from services.common.vocabulary import MembershipRole, NetworkLevel, Perspective
from services.demo import (
    DEMO_MEMBERS,
    DEMO_MEMBERSHIPS,
    DEMO_NETWORKS,
    EXAMPLE_TOKEN_HOLDER,
    NETWORK_KEYS,
    DemoDataError,
    load_demo_data,
)
from services.networks.schemas import CreateNetwork

OPERATOR = "operator-secret"


def members_of(network_id: str, role: MembershipRole) -> list[str]:
    return [key for net, key, r in DEMO_MEMBERSHIPS if net == network_id and r == role]


def by_key(key: str):
    return next(m for m in DEMO_MEMBERS if m.key == key)


def test_demo_members_have_valid_perspectives_and_unique_valid_emails():
    for member in DEMO_MEMBERS:
        body = member.registration()
        assert body["perspectives"], member.key
        assert all(Perspective(p) for p in body["perspectives"])
        validate_email(member.email, check_deliverability=False)
    emails = [m.email.lower() for m in DEMO_MEMBERS]
    assert len(emails) == len(set(emails))
    assert len({m.key for m in DEMO_MEMBERS}) == len(DEMO_MEMBERS)


def test_demo_members_cover_every_perspective_and_mixed_consent():
    assert {p for m in DEMO_MEMBERS for p in m.perspectives} == set(Perspective)
    assert any(m.findable_by_expertise and m.named_in_shared_outputs for m in DEMO_MEMBERS)
    assert any(not m.findable_by_expertise for m in DEMO_MEMBERS)
    assert any(not m.named_in_shared_outputs for m in DEMO_MEMBERS)


def test_demo_networks_are_valid_creations_with_parents_first_and_one_level_up():
    levels = list(NetworkLevel)
    seen: dict[str, NetworkLevel] = {}
    for network in DEMO_NETWORKS:
        CreateNetwork.model_validate(network.creation(parent_id="some-parent" if network.parent else None))
        if network.parent:
            assert network.parent in seen, f"{network.key}: create its parent first"
            assert levels.index(seen[network.parent]) < levels.index(network.level)
        seen[network.key] = network.level
    assert len({n.name for n in DEMO_NETWORKS}) == len(DEMO_NETWORKS), "names find networks on a re-run"


@pytest.mark.parametrize("network_id", sorted(NETWORK_KEYS))
def test_each_demo_network_has_one_coordinator_and_two_facilitators_from_different_perspectives(network_id):
    assert len(members_of(network_id, MembershipRole.COORDINATOR)) == 1
    facilitators = members_of(network_id, MembershipRole.FACILITATOR)
    assert len(facilitators) == 2
    first, second = (by_key(key).perspectives[0] for key in facilitators)
    assert first != second
    assert members_of(network_id, MembershipRole.PARTICIPANT)


def test_demo_memberships_name_known_networks_and_members_once_each():
    keys = {m.key for m in DEMO_MEMBERS}
    pairs = Counter((net, key) for net, key, _ in DEMO_MEMBERSHIPS)
    assert all(net in NETWORK_KEYS and key in keys for net, key in pairs)
    assert max(pairs.values()) == 1
    assert keys == {key for _, key, _ in DEMO_MEMBERSHIPS}, "every demo member belongs to a network"


def test_example_token_holder_coordinates_a_network():
    assert (EXAMPLE_TOKEN_HOLDER, MembershipRole.COORDINATOR) in {(k, r) for _, k, r in DEMO_MEMBERSHIPS}


class FakeAdminApi:
    """The admin API's members routes as the demo loader uses them, in memory."""

    def __init__(self, *, with_network_routes: bool = True) -> None:
        self.with_network_routes = with_network_routes
        self.networks: dict[str, dict] = {}
        self.members: dict[str, dict] = {}
        self.memberships: dict[tuple[str, str], str] = {}
        self.tokens: set[str] = set()
        self.calls: Counter[str] = Counter()
        self.fail_registration_with: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        if auth not in {f"Bearer {OPERATOR}", *(f"Bearer {t}" for t in self.tokens)}:
            return httpx.Response(401, json={"code": "unauthenticated"})
        parts = request.url.path.strip("/").split("/")
        if request.method == "GET" and parts == ["openapi.json"]:
            routes = {"/v1/members": {"get": {}, "post": {}}}
            if self.with_network_routes:
                routes["/v1/networks"] = {"get": {}, "post": {}}
            return httpx.Response(200, json={"paths": routes})
        if parts == ["v1", "networks"] and self.with_network_routes:
            return self.create_network(json.loads(request.content)) if request.method == "POST" else \
                self.page(list(self.networks.values()), request.url.params)
        if request.method == "GET" and parts == ["v1", "whoami"]:
            return httpx.Response(200, json={"subject": auth})
        if request.method == "POST" and parts == ["v1", "members"]:
            return self.register(json.loads(request.content))
        if request.method == "GET" and parts == ["v1", "members"]:
            return self.list(request.url.params)
        if request.method == "PUT" and parts[:2] == ["v1", "networks"] and parts[3] == "members":
            if parts[4] not in {m["id"] for m in self.members.values()} or parts[2] not in self.networks:
                return httpx.Response(404, json={"code": "not_found"})
            self.memberships[(parts[2], parts[4])] = json.loads(request.content)["role"]
            return httpx.Response(200, json={"role": self.memberships[(parts[2], parts[4])]})
        if request.method == "POST" and parts[:2] == ["v1", "members"] and parts[3] == "tokens":
            token = uuid.uuid4().hex
            self.tokens.add(token)
            return httpx.Response(201, json={"token": token, "label": json.loads(request.content)["label"]})
        return httpx.Response(404, json={"code": "not_found"})

    def register(self, body: dict) -> httpx.Response:
        if self.fail_registration_with:
            return httpx.Response(self.fail_registration_with, text="boom")
        if body["email"] in self.members:
            return httpx.Response(409, json={"code": "conflict"})
        self.members[body["email"]] = {**body, "id": uuid.uuid4().hex}
        return httpx.Response(201, json=self.members[body["email"]])

    def create_network(self, body: dict) -> httpx.Response:
        CreateNetwork.model_validate(body)
        if body.get("parent_id") and body["parent_id"] not in self.networks:
            return httpx.Response(404, json={"code": "not_found"})
        network = {**body, "id": uuid.uuid4().hex}
        self.networks[network["id"]] = network
        return httpx.Response(201, json=network)

    def list(self, params: httpx.QueryParams) -> httpx.Response:
        return self.page([m for m in self.members.values() if m["organisation"] == params.get("organisation")],
                         params)

    def page(self, matching: list[dict], params: httpx.QueryParams) -> httpx.Response:
        start, size = int(params.get("page_token") or 0), int(params["page_size"])
        end = start + min(size, 2)  # small pages, so the loader must follow next_page_token
        return httpx.Response(200, json={"items": matching[start:end],
                                         "next_page_token": str(end) if end < len(matching) else None})


@pytest.fixture
def api() -> FakeAdminApi:
    return FakeAdminApi()


def client_for(api: FakeAdminApi) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(api), base_url="http://kring.test",
                        headers={"Authorization": f"Bearer {OPERATOR}"})


def test_loading_demo_data_creates_networks_and_members_sets_memberships_and_issues_a_token(api):
    result = load_demo_data(client_for(api))

    assert result.networks_created == len(api.networks) == len(DEMO_NETWORKS)
    assert result.created == len(DEMO_MEMBERS) and result.existing == 0
    assert len(api.memberships) == len(DEMO_MEMBERSHIPS) == result.memberships
    assert result.token in api.tokens and not result.token_reused
    assert result.token_holder == "Anouk de Vries, coordinator of BeterOud"


def test_without_network_routes_the_members_still_load_and_the_memberships_wait(api):
    api.with_network_routes = False

    result = load_demo_data(client_for(api))

    assert result.created == len(DEMO_MEMBERS) and result.memberships == 0 and not api.memberships
    assert "cannot create networks" in result.notes[0]
    assert result.token in api.tokens


def test_loading_demo_data_twice_finds_existing_members_and_keeps_a_working_token(api):
    first = load_demo_data(client_for(api))
    second = load_demo_data(client_for(api), known_token=first.token)

    assert second.created == 0 and second.existing == len(DEMO_MEMBERS)
    assert second.networks_created == 0 and second.network_ids == first.network_ids
    assert second.member_ids == first.member_ids
    assert second.token == first.token and second.token_reused
    assert len(api.members) == len(DEMO_MEMBERS) and len(api.networks) == len(DEMO_NETWORKS)


def test_a_stale_example_token_is_replaced(api):
    result = load_demo_data(client_for(api), known_token="revoked-long-ago")

    assert result.token != "revoked-long-ago" and not result.token_reused


def test_an_unexpected_answer_stops_loading_with_the_status_and_route(api):
    api.fail_registration_with = 500

    with pytest.raises(DemoDataError, match=r"POST /v1/members answered 500"):
        load_demo_data(client_for(api))
