"""Between instances at the gateway: the peers API (operator only, the key never in an answer), a link request
with a network of a peer (our copy, then the peer's side, then the peer's id attached; nothing left behind when
the peer refuses or cannot be reached), GetFeedHead, and the origin check on PublishOutput from an instance."""

from __future__ import annotations

import copy
import warnings
from typing import Any

import pytest

from services.api.kring.v1 import federation_pb2 as pb
from services.common import metrics
from services.common.caller import Caller
from services.common.config import Settings
from services.common.errors import NotFound, PermissionDenied, Unavailable
from services.federation.domain import access as rules
from services.federation.peers import directory
from services.federation.peers import handlers as peers
from services.federation.peers.schemas import PeerNetworkQuery, SyncPeerDirectory
from services.federation.relay.peer_client import PeerRefused
from services.federation.schemas import RegisterPartner
from services.gateway.admin.app import create_app
from services.gateway.partner.feed_hub import FeedHub
from services.gateway.partner.servicer import FederationServicer
from tests.unit.federation_fakes import FakeContext, FakeFederation
from tests.unit.gateway_fakes import FakeMembers, FakeNetworks, FakeReadiness, FakeServices, applied
from tests.unit.test_federation_ingest import follow
from tests.unit.test_federation_world import open_world

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

OPERATOR = {"Authorization": "Bearer operator-secret"}
KEY = "kpk_issued-by-the-peer"
NOW = "2026-03-01T09:00:00+00:00"


class FakePeerFederation:
    """The federation service's peer methods: peers, and links with a peer's networks."""

    def __init__(self) -> None:
        self.peers: dict[str, dict[str, Any]] = {}
        self.links: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple] = []

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        return applied(self, method, args, lambda: copy.deepcopy(getattr(self, method)(*copy.deepcopy(args))))

    def configure_peer(self, caller: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        rules.require_operator(Caller.of(caller))
        created = request["instance_id"] not in self.peers
        self.peers[request["instance_id"]] = request
        return {"peer": self._view(request), "created": created}

    def list_peers(self, caller: dict[str, Any]) -> list[dict[str, Any]]:
        rules.require_operator(Caller.of(caller))
        return [self._view(p) for p in self.peers.values()]

    def get_peer(self, caller: dict[str, Any], instance_id: str) -> dict[str, Any]:
        rules.require_operator(Caller.of(caller))
        if instance_id not in self.peers:
            raise NotFound(f"peer {instance_id} not found")
        return self._view(self.peers[instance_id])

    def remove_peer(self, caller: dict[str, Any], instance_id: str) -> None:
        rules.require_operator(Caller.of(caller))
        self.peers.pop(instance_id)

    def begin_peer_link(self, caller: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
        rules.require_acts_for(Caller.of(caller), request["requester_network_id"], None, "requester_network_id")
        link = self.links.setdefault("l1", {
            "link_id": "l1", "kind": "peer", "requester_network_id": request["requester_network_id"],
            "target_network_id": request["target_network_id"], "status": "requested",
            "requester_policy": {"visibilities": ["federation"], "themes": None},
            "target_policy": {"visibilities": ["linked", "federation", "public"], "themes": None},
            "requested_at": NOW, "updated_at": NOW, "revision": 1})
        assert request["peer"] in self.peers
        return {"link": link, "remote_link_id": link.get("remote"), "call_peer": True}

    def peer_contact(self, instance_id: str) -> dict[str, Any]:
        peer = self.peers[instance_id]
        return {"address": peer["address"], "api_key": peer["api_key"], "transport": peer["transport"]}

    def attach_peer_link(self, link_id: str, instance_id: str, remote: dict[str, Any]) -> dict[str, Any]:
        self.links[link_id]["remote"] = remote["link_id"]
        return {k: v for k, v in self.links[link_id].items() if k != "remote"}

    def abandon_peer_link(self, link_id: str) -> dict[str, Any]:
        self.links[link_id]["status"] = "revoked"
        return self.links[link_id]

    @staticmethod
    def _view(peer: dict[str, Any]) -> dict[str, Any]:
        return {"instance_id": peer["instance_id"], "name": peer["name"], "address": peer["address"],
                "transport": peer["transport"], "local_network_ids": peer.get("local_network_ids"), "cursor": 0,
                "last_ingest_at": None,
                "refused_entries": 0, "skipped": [], "state": {"status": "configured"}, "created_at": NOW,
                "changed_at": NOW}


class FakePeerClient:
    """The peer's gRPC API as the gateway calls it; ``answer`` is its RequestLink reply or the error to raise."""

    made: list[FakePeerClient] = []

    def __init__(self, instance_id: str, address: str, api_key: str, transport: dict[str, Any]) -> None:
        self.instance_id, self.address, self.api_key, self.transport = instance_id, address, api_key, transport
        self.asked: list[tuple] = []
        self.closed = False
        FakePeerClient.made.append(self)

    answer: Any = {"link_id": "theirs", "status": "requested", "target_policy": None}

    def request_link(self, requester: str, target: str, policy: dict[str, Any] | None) -> dict[str, Any]:
        self.asked.append((requester, target, policy))
        if isinstance(FakePeerClient.answer, Exception):
            raise FakePeerClient.answer
        return FakePeerClient.answer

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def federation():
    return FakePeerFederation()


@pytest.fixture
def members():
    return FakeMembers(FakeNetworks())


@pytest.fixture
def client(federation, members):
    FakePeerClient.made, FakePeerClient.answer = [], {"link_id": "theirs", "status": "requested",
                                                      "target_policy": None}
    app = create_app(Settings(operator_token="operator-secret"),
                     FakeServices(members=members, networks=FakeNetworks(), federation=federation),
                     readiness=FakeReadiness({}))
    app.state.connect_peer = FakePeerClient
    return TestClient(app)


def configure(client, **fields) -> Any:
    body = {"instance_id": "kring-b", "name": "Kring Twente", "address": "kring-b.example.org:50051",
            "api_key": KEY, **fields}
    return client.post("/v1/peers", json=body, headers=OPERATOR)


def test_the_operator_configures_a_peer_and_no_answer_shows_its_key(client):
    created = configure(client)
    assert created.status_code == 201, created.text
    assert configure(client, address="elsewhere.example.org:443").status_code == 200  # reconfigured
    for response in (created, client.get("/v1/peers", headers=OPERATOR), client.get("/v1/peers/kring-b",
                                                                                   headers=OPERATOR)):
        assert response.status_code in (200, 201) and KEY not in response.text
    assert client.get("/v1/peers/kring-x", headers=OPERATOR).status_code == 404
    assert client.delete("/v1/peers/kring-b", headers=OPERATOR).status_code == 204


@pytest.mark.parametrize(("method", "path"), [("post", "/v1/peers"), ("get", "/v1/peers"),
                                              ("get", "/v1/peers/kring-b"), ("delete", "/v1/peers/kring-b")])
def test_peers_are_the_operators_alone(client, members, federation, method, path):
    coordinator = members.token_for("ann", administers=["y"])
    body = {"json": {"instance_id": "kring-b", "name": "B", "address": "b:1", "api_key": KEY}} \
        if method == "post" else {}
    assert getattr(client, method)(path, headers=coordinator, **body).status_code == 403
    assert federation.calls == []


def test_a_peer_is_reached_over_tls_unless_its_transport_says_plaintext(client):
    shown = configure(client).json()
    assert shown["transport"] == {"mode": "tls", "ca_bundle": None, "server_name": None,
                                  "client_certificate": False}
    plain = configure(client, transport={"mode": "plaintext"}).json()
    assert plain["transport"]["mode"] == "plaintext"


@pytest.mark.parametrize(("transport", "field"), [
    ({"mode": "tls", "ca_bundle": "not a certificate"}, "transport.ca_bundle"),
    ({"mode": "plaintext", "client_certificate": True}, "transport"),
    ({"mode": "tls", "server_name": "not a name!"}, "transport.server_name"),
    ({"mode": "ssl"}, "transport.mode"),
])
def test_a_peer_transport_that_cannot_work_is_refused_naming_the_field(client, federation, transport, field):
    response = configure(client, transport=transport)
    assert response.status_code == 422, response.text
    assert [v["field"] for v in response.json()["error"]["violations"]] == [field]
    assert federation.peers == {}


def test_a_peer_needs_an_address_with_a_port_and_an_instance_id(client):
    response = configure(client, address="no-port", instance_id="not valid!")
    assert response.status_code == 422
    assert {v["field"] for v in response.json()["error"]["violations"]} == {"address", "instance_id"}


def test_a_link_with_a_peers_network_asks_the_peer_with_its_key_and_attaches_the_peers_id(client, federation):
    configure(client)
    response = client.post("/v1/links", headers=OPERATOR, json={"requester_network_id": "y", "target_network_id": "x",
                                                                "peer": "kring-b"})
    assert response.status_code == 201, response.text
    [peer] = FakePeerClient.made
    assert (peer.instance_id, peer.address, peer.api_key, peer.closed) == (
        "kring-b", "kring-b.example.org:50051", KEY, True)
    assert peer.transport == {"mode": "tls", "ca_bundle": None, "server_name": None, "client_certificate": False}
    assert peer.asked == [("y", "x", {"visibilities": ["federation"], "themes": None})]
    assert federation.links["l1"]["remote"] == "theirs"

    again = client.post("/v1/links", headers=OPERATOR, json={"requester_network_id": "y", "target_network_id": "x",
                                                             "peer": "kring-b"})
    assert again.status_code == 200 and len(FakePeerClient.made) == 1  # asked already: the peer is not asked again


@pytest.mark.parametrize(("error", "status"), [
    (PeerRefused("peer kring-b refused RequestLink: PERMISSION_DENIED: not one of your networks"), 502),
    (Unavailable("peer kring-b: RequestLink: UNAVAILABLE: connection refused"), 503)])
def test_a_link_the_peer_refuses_or_cannot_take_leaves_nothing_behind(client, federation, error, status):
    configure(client)
    FakePeerClient.answer = error
    response = client.post("/v1/links", headers=OPERATOR, json={"requester_network_id": "y", "target_network_id": "x",
                                                                "peer": "kring-b"})
    assert response.status_code == status and error.message in response.json()["error"]["message"]
    assert federation.links["l1"]["status"] == "revoked" and FakePeerClient.made[0].closed


# --- the gRPC side -------------------------------------------------------------------------------------------------


class HeadFederation(FakeFederation):
    """The federation fake, with partners of kind instance and the feed head."""

    def authenticate_partner(self, key_hash):
        partner = super().authenticate_partner(key_hash)
        return {**partner, "instance_id": self.partners[partner["partner_id"]].get("instance_id")}

    def log_head(self, caller, query):
        self.heads = {**query, "network_ids": self.feed_scope(caller, query["network_ids"])}
        return {"head_cursor": 17, "pending": 4}


@pytest.fixture
def servicer():
    networks = FakeNetworks()
    for network_id in ("x", "y"):
        networks.add(network_id)
    fake = HeadFederation(networks)
    fake.add_partner("kring-b-partner", ["y"])
    fake.partners["kring-b-partner"]["instance_id"] = "kring-b"
    hub = FeedHub(fake.log.read)
    yield FederationServicer(Settings(), FakeServices(networks=networks, federation=fake), hub=hub), fake
    hub.stop()


def test_the_feed_head_tells_a_reader_how_far_behind_it_is(servicer):
    servicer, fake = servicer
    head = servicer.GetFeedHead(pb.GetFeedHeadRequest(cursor="12"), FakeContext("kpk_kring-b-partner"))
    assert (head.cursor, head.pending) == ("17", 4)
    assert fake.heads == {"network_ids": ["y"], "cursor": 12}
    with pytest.raises(PermissionDenied):
        servicer.GetFeedHead(pb.GetFeedHeadRequest(network_ids=["x"]), FakeContext("kpk_kring-b-partner"))


def test_an_instance_publishing_for_a_network_it_does_not_host_is_refused_and_counted(servicer):
    servicer, _ = servicer
    counter = metrics.FEDERATION_ORIGIN_REFUSALS.labels(peer="kring-b")
    before = counter._value.get()
    request = pb.PublishOutputRequest(network_id="x", client_output_id="c1", kind=pb.OUTPUT_KIND_LESSON,
                                      title="Niet van ons", visibility=pb.VISIBILITY_FEDERATION)
    with pytest.raises(PermissionDenied):
        servicer.PublishOutput(request, FakeContext("kpk_kring-b-partner"))
    assert counter._value.get() == before + 1


# --- a peer's directory of networks, and approval ---------------------------------------------------------------


class DirectoryFederation(FakePeerFederation):
    """The federation service's directory methods: the real handlers, on a migrated SQLite database."""

    def __init__(self, world: Any) -> None:
        super().__init__()
        self.world = world

    def list_peer_networks(self, caller: dict[str, Any], instance_id: str, query: dict[str, Any]) -> list[Any]:
        return [n.model_dump(mode="json") for n in directory.list_peer_networks(
            Caller.of(caller), instance_id, PeerNetworkQuery.model_validate(query), self.world.uow)]

    def approve_peer_network(self, caller: dict[str, Any], instance_id: str, network_id: str) -> dict[str, Any]:
        return directory.approve_peer_network(Caller.of(caller), instance_id, network_id, self.world.uow,
                                              self.world.lookup).model_dump(mode="json")

    def withdraw_peer_network_approval(self, caller: dict[str, Any], instance_id: str,
                                       network_id: str) -> dict[str, Any]:
        return directory.withdraw_approval(Caller.of(caller), instance_id, network_id,
                                           self.world.uow).model_dump(mode="json")


class ForgettingKeys:
    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def forget_partner(self, partner_id: str) -> None:
        self.forgotten.append(partner_id)


@pytest.fixture
def world(tmp_path):
    yield from open_world(tmp_path)


@pytest.fixture
def offered(world, members):
    """Kring A is followed here; its directory offers x1 and x2; it is not registered as a partner yet."""
    federation = DirectoryFederation(world)
    follow(world, "kring-a")
    directory.sync_peer_directory("kring-a", SyncPeerDirectory.model_validate({"networks": [
        {"id": "x1", "name": "Werkplaats Oost", "theme": "armoede"}, {"id": "x2", "name": "Leerkring Zuid"}]}),
        world.uow)
    app = create_app(Settings(operator_token="operator-secret"),
                     FakeServices(members=members, networks=FakeNetworks(), federation=federation),
                     readiness=FakeReadiness({}))
    app.state.partner_keys = ForgettingKeys()
    return TestClient(app), world, app.state.partner_keys


def test_the_operator_reads_a_peers_directory_by_status(offered):
    client, _, _ = offered
    listed = client.get("/v1/peers/kring-a/networks", headers=OPERATOR)
    assert listed.status_code == 200, listed.text
    assert [(n["network_id"], n["name"], n["status"]) for n in listed.json()["items"]] == \
        [("x2", "Leerkring Zuid", "offered"), ("x1", "Werkplaats Oost", "offered")]
    assert client.get("/v1/peers/kring-a/networks", params={"status": "approved"},
                      headers=OPERATOR).json()["items"] == []
    assert client.get("/v1/peers/kring-z/networks", headers=OPERATOR).status_code == 404
    wrong = client.get("/v1/peers/kring-a/networks", params={"status": "maybe"}, headers=OPERATOR)
    assert wrong.status_code == 422 and wrong.json()["error"]["violations"][0]["field"] == "status"


def test_approving_before_the_instance_is_a_partner_is_a_conflict_naming_the_rule(offered):
    client, _, _ = offered
    refused = client.post("/v1/peers/kring-a/networks/x1/approve", headers=OPERATOR)
    assert refused.status_code == 409, refused.text
    assert [(v["field"], v["rule"]) for v in refused.json()["error"]["violations"]] == \
        [("instance_id", "registered_partner")]


def test_approving_makes_the_network_the_partners_and_the_key_cache_forgets_the_partner(offered):
    client, world, keys = offered
    partner = peers.register_instance(world_operator(), RegisterPartner(name="Kring A", kind="instance",
                                                                        instance_id="kring-a"), world.uow,
                                      world.lookup)
    approved = client.post("/v1/peers/kring-a/networks/x1/approve", headers={**OPERATOR, "Idempotency-Key": "k-1"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["partner_id"]) == ("approved", partner.partner_id)
    assert keys.forgotten == [partner.partner_id]
    unknown = client.post("/v1/peers/kring-a/networks/x9/approve", headers=OPERATOR)
    assert unknown.status_code == 404 and unknown.json()["error"]["violations"][0]["field"] == "network_id"
    withdrawn = client.post("/v1/peers/kring-a/networks/x1/withdraw-approval", headers=OPERATOR)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "offered"


@pytest.mark.parametrize(("method", "path"), [("get", "/v1/peers/kring-a/networks"),
                                              ("post", "/v1/peers/kring-a/networks/x1/approve"),
                                              ("post", "/v1/peers/kring-a/networks/x1/withdraw-approval")])
def test_a_peers_directory_and_its_approval_are_the_operators_alone(offered, members, method, path):
    client, _, _ = offered
    coordinator = members.token_for("ann", administers=["y"])
    assert getattr(client, method)(path, headers=coordinator).status_code == 403


def world_operator() -> Caller:
    return Caller.the_operator()
