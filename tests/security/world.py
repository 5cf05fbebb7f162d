"""The scenario the security tests attack, built once per stack through the admin API as the operator.

Two networks: ``n``, the network concerned (its coordinator, a plain member and another member ``x``; a held
session with an output kept within the network; a planned session; a link asked by ``o``; a partner) and
``o``, another network (a facilitator, a partner of its own). Destructive requests (archive, erase, revoke,
block, accept...) get fresh objects from the factories here, so the scenario stays as built.

Roles, as the access model names them:

- ``anonymous``: no credential at all; ``wrong-token``: a well-formed credential nobody issued
- ``member``: a plain participant of ``n``
- ``other-facilitator``: the facilitator of ``o``, nothing in ``n``
- ``coordinator``: the coordinator of ``n``
- ``other-partner``: the partner of ``o`` (its API key sent where a token is expected, on the admin API)
- ``partner``: the partner of ``n`` (partner API only)
- ``operator``: the operator's token from configuration
- ``broker``: the sign-in broker's token (the console's), which opens only the sign-in exchange
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.api.kring.v1 import federation_pb2 as pb
from tests.support.http import ok
from tests.support.naming import fresh_tag
from tests.support.partner_client import PartnerClient
from tests.support.stack import Stack
from tests.support.waiting import eventually

HTTP_ROLES = ("anonymous", "wrong-token", "member", "other-facilitator", "coordinator", "other-partner", "operator",
              "broker")
GRPC_ROLES = ("anonymous", "wrong-token", "member", "other-facilitator", "coordinator", "other-partner", "partner",
              "operator", "broker")
WRONG_TOKEN = "krm_" + "x" * 43  # shaped like an issued token, issued to nobody


@dataclass
class World:
    stack: Stack
    operator: httpx.Client
    tokens: dict[str, str | None]  # role -> bearer credential sent on the admin API and the partner API
    n: str  # the network concerned
    o: str  # another network
    member_id: str  # the plain member of n
    coordinator_id: str
    facilitator_id: str  # of o
    x: str  # another member of n: whose record the others ask about
    held_session: str  # of n, held: attendance, outputs, reflections
    planned_session: str  # of n, in the future: registrations
    output: str  # of the held session, kept within n (visibility network)
    link: str  # asked by o, to n: n's coordinators answer it
    partner_id: str  # the partner of n
    other_partner_id: str  # the partner of o
    partner_output: str  # published by the partner of n
    partner_link: str  # asked by the partner of n, to o
    peer: str  # a peer instance this one follows (at an address where nothing answers)
    tag: str
    other_link: str = ""  # asked by the partner of o, not involving n (made by the hostile-input tests)
    other_output: str = ""  # published by the partner of o (made by the hostile-input tests)
    x_token: str = ""  # x's own token: x owns the learning questions the others ask about
    clients: dict[str, PartnerClient] = field(default_factory=dict)

    def http(self, role: str) -> httpx.Client:
        token = self.tokens[role]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.stack.http, headers=headers, timeout=30)

    def grpc(self, role: str) -> PartnerClient:
        if role not in self.clients:
            self.clients[role] = PartnerClient(self.stack.grpc, self.tokens[role])
        return self.clients[role]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.operator.close()

    # --- fresh objects for destructive requests --------------------------------------------------------------

    def network(self, level: str = "regional", **fields: Any) -> str:
        return ok(self.operator.post("/v1/networks", json={
            "name": f"Netwerk {fresh_tag()}", "level": level, "kind": "werkplaats", "theme": f"veiligheid {self.tag}",
            **fields}), 201)["id"]

    def member(self, network_id: str | None = None, role: str = "participant", name: str = "Mila Lid") -> str:
        member_id = ok(self.operator.post("/v1/members", json={
            "name": name, "email": f"{name.split()[0].lower()}.{fresh_tag()}@example.org",
            "perspectives": ["practitioner"]}), 201)["id"]
        if network_id is not None:
            self.join(member_id, network_id, role)
        return member_id

    def join(self, member_id: str, network_id: str, role: str = "participant") -> None:
        ok(self.operator.put(f"/v1/networks/{network_id}/members/{member_id}", json={"role": role}))

    def token_for(self, member_id: str) -> dict[str, Any]:
        return ok(self.operator.post(f"/v1/members/{member_id}/tokens", json={"label": "security"}), 201)

    def email_of(self, member_id: str) -> str:
        email: str = ok(self.operator.get(f"/v1/members/{member_id}"))["email"]
        return email

    def signed_in(self, member_id: str) -> dict[str, Any]:
        """A sign-in's token for the member, as the console gets it from the sign-in broker's exchange."""
        with self.http("broker") as broker:
            return ok(broker.post("/v1/sign-in/tokens", json={"email": self.email_of(member_id)}), 201)

    def coordinated_network(self) -> str:
        """A fresh network the coordinator of n also coordinates, and the member of n belongs to."""
        network_id = self.network()
        self.join(self.coordinator_id, network_id, "coordinator")
        self.join(self.member_id, network_id)
        return network_id

    def session(self, network_id: str | None = None, *, held: bool = False, started: bool = False) -> str:
        now = datetime.now(UTC)
        starts = now - timedelta(hours=3) if (held or started) else now + timedelta(days=7)
        session_id = ok(self.operator.post(f"/v1/networks/{network_id or self.n}/sessions", json={
            "title": f"Leersessie {fresh_tag()}", "format": "learning_session", "mode": "in_person",
            "location": "Buurthuis", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity": 100}), 201)["id"]
        if held:
            ok(self.operator.post(f"/v1/sessions/{session_id}/hold"))
        return session_id

    def cafe(self) -> str:
        """A knowledge café of n, held, with two statements."""
        starts = datetime.now(UTC) - timedelta(hours=3)
        session_id = ok(self.operator.post(f"/v1/networks/{self.n}/sessions", json={
            "title": f"Kenniscafé {fresh_tag()}", "format": "knowledge_cafe", "mode": "in_person", "location": "Bieb",
            "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "statements": ["Eenzaamheid is een taboe", "De wijk zorgt voor elkaar"]}), 201)["id"]
        ok(self.operator.post(f"/v1/sessions/{session_id}/hold"))
        return session_id

    def new_output(self, visibility: str = "network") -> str:
        # The sessions service learns that the author is a member from an event: retry until it has.
        return eventually(lambda: _created(self.operator.post(f"/v1/sessions/{self.held_session}/outputs", json={
            "kind": "lesson", "title": f"Les {fresh_tag()}", "authors": [self.member_id], "visibility": visibility,
            "themes": ["veiligheid"]})), "the author's membership reaching the sessions service")["id"]

    def question(self) -> str:
        """A question the member of n asked n's coordinator, who consented to be found by expertise."""
        ok(self.operator.patch(f"/v1/members/{self.coordinator_id}", json={
            "expertise": ["eenzaamheid"], "findable_by_expertise": True}))
        with self.http("member") as client:
            return ok(client.post("/v1/questions", json={"expert_id": self.coordinator_id, "network_id": self.n,
                                                         "question": "Hoe begin je?"}), 201)["id"]

    def requested_link(self) -> str:
        """A link asked by a fresh network to n: n's coordinators answer it."""
        return ok(self.operator.post("/v1/links", json={"requester_network_id": self.network(),
                                                        "target_network_id": self.n}), 201)["link_id"]

    def partner(self) -> dict[str, Any]:
        return ok(self.operator.post("/v1/partners", json={"name": f"Partner {fresh_tag()}",
                                                           "network_ids": [self.network()]}), 201)

    def peer_configuration(self) -> dict[str, Any]:
        # Nothing listens on port 9 of the loopback: the relay backs off from this peer, and that is all.
        return {"instance_id": f"peer-{fresh_tag()}", "name": "Kring Zuid", "address": "127.0.0.1:9",
                "api_key": f"peer-key-{uuid.uuid4().hex}"}

    def new_peer(self) -> str:
        return ok(self.operator.post("/v1/peers", json=self.peer_configuration()), 201)["instance_id"]

    def loop(self, status: str = "open") -> str:
        """A fresh learning question of x in n, not shared, moved by the operator to ``status``."""
        if not self.x_token:
            self.x_token = self.token_for(self.x)["token"]
        owner = httpx.Client(base_url=self.stack.http, headers={"Authorization": f"Bearer {self.x_token}"},
                             timeout=30)
        with owner:
            loop_id = ok(owner.post("/v1/learning-questions", json={
                "network_id": self.n, "question": f"Hoe vraag ik door? {fresh_tag()}"}), 201)["id"]
        steps = [("bring", {"session_id": self.held_session}),
                 ("experiment", {"session_id": self.held_session, "experiment": "Doorvragen", "mandate": "asked"}),
                 ("follow-up", {"session_id": self.session(held=True), "what_happened": "Het werkte"})]
        wanted = {"open": 0, "brought": 1, "experimenting": 2, "followed_up": 3}[status]
        for path, body in steps[:wanted]:
            ok(self.operator.post(f"/v1/learning-questions/{loop_id}/{path}", json=body))
        return loop_id

    def partner_published_output(self) -> str:
        return self.grpc("partner").call("PublishOutput", pb.PublishOutputRequest(
            network_id=self.n, client_output_id=f"security-{fresh_tag()}", kind=pb.OUTPUT_KIND_LESSON,
            title="Wat de partner leerde", visibility=pb.VISIBILITY_LINKED)).output_id


def build_world(stack: Stack) -> World:
    run = fresh_tag()
    operator = stack.client()
    world = World(stack=stack, operator=operator, tokens={}, n="", o="", member_id="", coordinator_id="",
                  facilitator_id="", x="", held_session="", planned_session="", output="", link="", partner_id="",
                  other_partner_id="", partner_output="", partner_link="", peer="", tag=run)
    world.n = world.network(name=f"Werkplaats Noord {run}")
    world.o = world.network(name=f"Werkplaats Zuid {run}")
    world.coordinator_id = world.member(world.n, "coordinator", name="Karin Kwartiermaker")
    world.member_id = world.member(world.n, name="Mo Deelnemer")
    world.facilitator_id = world.member(world.o, "facilitator", name="Fenna Begeleider")
    world.x = world.member(world.n, name="Xander Lid")
    partner = ok(operator.post("/v1/partners", json={"name": "Partner Noord", "network_ids": [world.n]}), 201)
    other_partner = ok(operator.post("/v1/partners", json={"name": "Partner Zuid", "network_ids": [world.o]}), 201)
    world.partner_id, world.other_partner_id = partner["partner_id"], other_partner["partner_id"]
    world.tokens = {
        "anonymous": None,
        "wrong-token": WRONG_TOKEN,
        "member": world.token_for(world.member_id)["token"],
        "other-facilitator": world.token_for(world.facilitator_id)["token"],
        "coordinator": world.token_for(world.coordinator_id)["token"],
        "other-partner": other_partner["api_key"],
        "partner": partner["api_key"],
        "operator": stack.token,
        "broker": stack.broker_token,
    }
    world.held_session = world.session(held=True)
    world.planned_session = world.session()
    world.output = world.new_output()
    world.link = ok(operator.post("/v1/links", json={"requester_network_id": world.o,
                                                     "target_network_id": world.n}), 201)["link_id"]
    world.partner_output = world.partner_published_output()
    world.partner_link = world.grpc("partner").call("RequestLink", pb.RequestLinkRequest(
        requester_network_id=world.n, target_network_id=world.network())).link_id
    world.peer = world.new_peer()
    # The federation service learns of the output from its event: until then its delivery log is a 404 for all.
    eventually(lambda: operator.get(f"/v1/outputs/{world.output}/deliveries").status_code == 200,
               "the output reaching the federation service")
    return world


def _created(response: httpx.Response) -> Any:
    return response.json() if response.status_code == 201 else None
