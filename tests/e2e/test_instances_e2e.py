"""Two Kring instances on one machine, federated through the partner gRPC API: each is a whole stack of its own
(`kring run --no-demo`: separate processes, its own PostgreSQL database and RabbitMQ virtual host, its own
instance id), linked only through their admin APIs, the way two operators would link them.

National instance A hosts network X; regional instance B hosts network Y and Y's child Z. Each operator
registers the other instance as a partner of kind instance (no networks typed in), and configures the other as
a peer with the key it was given; each relay reads the other's directory of networks through its partner API,
and each operator approves the network that may link (B approves X, A approves Y) from what is offered. X asks
to link with Y; B's operator accepts on B; A's relay sees it. A rename and an archive on A show in B's
directory of A within seconds. Then: an output published on A appears in Y's feed on B (and in Z's, through B's
own hierarchy); its retraction tombstones it there; B's relay, killed with SIGKILL while outputs stream in and
started again by its supervisor (its pid is in B's data directory, pids.json), misses nothing and doubles
nothing; a key A's operator revokes stops B's relay with a clear error in B's peer state.

The instances meet over mutual TLS, with certificates the test makes: each organisation has its own CA, which
signs its gateway's server certificate (kring-nationaal.test, kring-twente.test) and its instance's client
certificate; each gateway requires a client certificate from the other's CA, and each peer is configured with
the other's CA bundle and server name. A peer presenting another CA's certificate, another name, an expired
certificate, or none where one is required, is refused, and the relay's state (GET /v1/peers/{id}) says why.

One database kind (PostgreSQL, as in production) keeps the runtime bounded; the relays are tuned to reload
their peer list every second and to back off from 0.2 s to 2 s, so the test waits seconds, not minutes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import httpx
import pytest

from services.api.kring.v1 import federation_pb2 as pb
from services.api.kring.v1 import federation_pb2_grpc
from services.common.config import Settings
from services.federation.relay.peer_client import PeerClient, PeerRefused
from services.federation.relay.transport import ClientIdentity
from services.gateway.shared.tls import grpc_server_credentials
from tests.e2e.test_partner_e2e import refused
from tests.support.certificates import CertificateAuthority
from tests.support.http import ok
from tests.support.infra import postgres_database, rabbit_vhost
from tests.support.naming import fresh_tag
from tests.support.partner_client import PartnerClient
from tests.support.stack import Stack, free_port, killed_on_stop, start_stack, stop_stack
from tests.support.waiting import eventually

ARRIVAL = 30.0  # seconds for an output to cross: A's event chain, A's stream, B's relay, B's federation service
RELAY_TUNING = {"KRING_RELAY_RELOAD_INTERVAL": "1", "KRING_RELAY_BACKOFF_INITIAL": "0.2",
                "KRING_RELAY_BACKOFF_MAX": "2", "KRING_PEER_DIRECTORY_SYNC_SECONDS": "1"}


NAMES = {"kring-nationaal": "kring-nationaal.test", "kring-twente": "kring-twente.test"}


@dataclass
class Organisation:
    """One side's certificates: its CA, its gateway's server certificate and its instance's client certificate."""

    instance_id: str
    ca: CertificateAuthority
    ca_file: Path
    server: tuple[Path, Path]
    client: tuple[Path, Path]

    @classmethod
    def make(cls, directory: Path, instance_id: str) -> Organisation:
        ca = CertificateAuthority(f"{instance_id} CA")
        return cls(instance_id, ca, ca.write(directory, f"{instance_id}-ca"),
                   ca.issue(instance_id, dns=(NAMES[instance_id],)).write(directory, f"{instance_id}-server"),
                   ca.issue(instance_id, client=True).write(directory, f"{instance_id}-client"))

    def env(self, other: Organisation) -> dict[str, str]:
        """Serve mutual TLS, trusting the other side's instance certificates; present ours to peers."""
        return {"KRING_GRPC_TLS_CERT_FILE": str(self.server[0]), "KRING_GRPC_TLS_KEY_FILE": str(self.server[1]),
                "KRING_GRPC_TLS_CLIENT_CA_FILE": str(other.ca_file), "KRING_GRPC_TLS_REQUIRE_CLIENT_CERT": "true",
                "KRING_PEER_TLS_CERT_FILE": str(self.client[0]), "KRING_PEER_TLS_KEY_FILE": str(self.client[1])}

    def transport(self, **changes: object) -> dict[str, object]:
        """How the other side reaches this one's gateway."""
        return {"mode": "tls", "ca_bundle": self.ca.pem.decode(), "server_name": NAMES[self.instance_id],
                "client_certificate": True, **changes}

    def credentials(self, presenting: Organisation) -> grpc.ChannelCredentials:
        """A client of this side's gateway, presenting ``presenting``'s instance certificate."""
        return grpc.ssl_channel_credentials(self.ca.pem, presenting.client[1].read_bytes(),
                                            presenting.client[0].read_bytes())


@dataclass
class Pki:
    directory: Path
    a: Organisation
    b: Organisation


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    return Pki(directory, Organisation.make(directory, "kring-nationaal"), Organisation.make(directory, "kring-twente"))


@dataclass
class Instances:
    a: Stack
    b: Stack
    op_a: httpx.Client
    op_b: httpx.Client
    x: str  # on A
    y: str  # on B, linked with X
    z: str  # on B, Y's child
    author: str  # a member of X on A who did not consent to be named
    session: str  # a held session of X on A
    link_a: dict
    key_ab: str  # the key B issued to A (A's relay and gateway call B with it)
    partner_of_b_on_a: str  # B's partner id on A
    pki: Pki


def network(client: httpx.Client, name: str, level: str, parent: str | None = None) -> str:
    body = {"name": name, "level": level, "kind": "werkplaats", "theme": "eenzaamheid en mantelzorg"}
    if parent:
        body["parent_id"] = parent
    return ok(client.post("/v1/networks", json=body), 201)["id"]


def feed(client: httpx.Client, network_id: str) -> list[dict]:
    items, token = [], None
    while True:
        page = ok(client.get(f"/v1/networks/{network_id}/feed",
                             params={"page_size": 200, **({"page_token": token} if token else {})}), 200)
        items += page["items"]
        token = page.get("next_page_token")
        if not token:
            return items


def live(client: httpx.Client, network_id: str) -> list[str]:
    return [i["output"]["output_id"] for i in feed(client, network_id) if not i["output"].get("retracted")]


def directory_of(client: httpx.Client, instance_id: str) -> dict[str, dict]:
    """The peer's directory of networks as held here, by network id."""
    return {n["network_id"]: n for n in ok(client.get(f"/v1/peers/{instance_id}/networks"), 200)["items"]}


def peer_state(client: httpx.Client, instance_id: str) -> dict:
    return ok(client.get(f"/v1/peers/{instance_id}"), 200)


def publish(world: Instances, title: str, visibility: str = "federation") -> str:
    return ok(world.op_a.post(f"/v1/sessions/{world.session}/outputs", json={
        "kind": "lesson", "title": title, "visibility": visibility, "themes": ["eenzaamheid"],
        "authors": [world.author]}), 201)["id"]


def pid_of(stack: Stack, process: str) -> int:
    return json.loads((stack.data_dir / "pids.json").read_text())[process]


@pytest.fixture(scope="module")
def stacks(tmp_path_factory, pki: Pki) -> Iterator[tuple[Stack, Stack]]:
    with ExitStack() as resources, pytest.MonkeyPatch.context() as env:
        for name, value in RELAY_TUNING.items():
            env.setenv(name, value)
        urls = [(resources.enter_context(rabbit_vhost(f"kring-e2e-{side}")),
                 resources.enter_context(postgres_database(f"kring_e2e_{side}"))) for side in ("a", "b")]
        with ThreadPoolExecutor(2) as pool:
            started = [pool.submit(start_stack, tmp_path_factory.mktemp(f"instance-{side}"), amqp, db, instance_id,
                                   ours.env(theirs))
                       for side, instance_id, (amqp, db), ours, theirs in zip(
                           "ab", ("kring-nationaal", "kring-twente"), urls, (pki.a, pki.b), (pki.b, pki.a),
                           strict=True)]
        failed = [future.exception() for future in started if future.exception() is not None]
        if failed:  # the other stack is running: stop it before failing
            for future in started:
                if future.exception() is None:
                    stop_stack(future.result().process)
            raise failed[0]
        a, b = (future.result() for future in started)
        try:
            yield a, b
        finally:
            codes = [stop_stack(a.process), stop_stack(b.process)]
        assert codes == [0, 0], "kring run did not stop cleanly on Ctrl-C"
        # Two instances following each other, stopped together: both relays and every service exit on their own
        # (a relay waited out calls to a peer or to its own federation service that were never answered).
        assert (killed_on_stop(a), killed_on_stop(b)) == ([], []), "every process exits on its own after SIGTERM"


@pytest.fixture(scope="module")
def world(stacks, pki: Pki) -> Iterator[Instances]:
    a, b = stacks
    with a.client() as op_a, b.client() as op_b:
        tag = fresh_tag()
        x = network(op_a, f"BeterOud {tag}", "national")
        y = network(op_b, f"Werkplaats Twente {tag}", "regional")
        z = network(op_b, f"Actieleerkring Enschede {tag}", "local", parent=y)

        # The handshake: each operator registers the other instance, without typing in its networks ...
        key_ab = ok(op_b.post("/v1/partners", json={
            "name": "Kring Nationaal", "kind": "instance", "instance_id": "kring-nationaal"}), 201)["api_key"]
        partner_b = ok(op_a.post("/v1/partners", json={
            "name": "Kring Twente", "kind": "instance", "instance_id": "kring-twente"}), 201)
        # ... follows the other with the key it was given, over mutual TLS (each trusts the other's CA and
        # presents its own instance certificate) ...
        ok(op_a.post("/v1/peers", json={"instance_id": "kring-twente", "name": "Kring Twente", "address": b.grpc,
                                        "api_key": key_ab, "transport": pki.b.transport()}), 201)
        ok(op_b.post("/v1/peers", json={"instance_id": "kring-nationaal", "name": "Kring Nationaal",
                                        "address": a.grpc, "api_key": partner_b["api_key"],
                                        "transport": pki.a.transport()}), 201)
        # ... waits for its relay to read the other's directory, and approves the network that may link.
        for client, peer, network_id in ((op_b, "kring-nationaal", x), (op_a, "kring-twente", y)):
            eventually(lambda c=client, p=peer: directory_of(c, p), f"{peer}'s directory read", ARRIVAL,
                       accept=lambda found, n=network_id: found.get(n, {}).get("status") == "offered")
            approved = ok(client.post(f"/v1/peers/{peer}/networks/{network_id}/approve"), 200)
            assert approved["status"] == "approved"

        author = ok(op_a.post("/v1/members", json={
            "name": "Henk Ervaring", "perspectives": ["lived_experience"],
            "email": f"henk.{tag}@example.org"}), 201)["id"]
        ok(op_a.put(f"/v1/networks/{x}/members/{author}", json={"role": "participant"}), 200)
        now = datetime.now(UTC)
        session = ok(op_a.post(f"/v1/networks/{x}/sessions", json={
            "title": "Leersessie over de grens", "format": "learning_session", "mode": "in_person",
            "location": "Utrecht", "starts_at": (now - timedelta(hours=3)).isoformat(),
            "ends_at": (now - timedelta(hours=2)).isoformat()}), 201)["id"]
        ok(op_a.post(f"/v1/sessions/{session}/hold"), 200)

        link_a = ok(op_a.post("/v1/links", json={"requester_network_id": x, "target_network_id": y,
                                                 "peer": "kring-twente",
                                                 "policy": {"visibilities": ["linked", "federation"]}}), 201)
        yield Instances(a, b, op_a, op_b, x, y, z, author, session, link_a, key_ab, partner_b["partner_id"], pki)


def test_a_network_on_a_links_with_a_network_on_b_and_both_relays_follow(world: Instances):
    assert world.link_a["status"] == "requested"
    [asked] = ok(world.op_b.get(f"/v1/networks/{world.y}/links", params={"status": "requested"}), 200)["items"]
    assert (asked["requester_network_id"], asked["target_network_id"]) == (world.x, world.y)
    assert asked["requester_policy"]["visibilities"] == ["linked", "federation"]

    accepted = ok(world.op_b.post(f"/v1/links/{asked['link_id']}/accept",
                                  json={"policy": {"visibilities": ["federation"]}}), 200)
    assert accepted["status"] == "active"
    seen = eventually(lambda: ok(world.op_a.get(f"/v1/links/{world.link_a['link_id']}"), 200),
                      "A sees B's acceptance", ARRIVAL,
                      accept=lambda link: link["status"] == "active")
    assert seen["target_policy"]["visibilities"] == ["federation"]  # B's side's policy, as B set it

    for client, peer in ((world.op_a, "kring-twente"), (world.op_b, "kring-nationaal")):
        state = eventually(lambda c=client, p=peer: peer_state(c, p)["state"],
                           f"following {peer}", ARRIVAL,
                           accept=lambda s: s["status"] == "following" and s["connected"])
        assert state["remote_instance"] == peer and state["consecutive_failures"] == 0
        assert "api_key" not in json.dumps(peer_state(client, peer))


def test_the_handshake_offered_each_instance_the_others_networks_and_only_the_approved_ones_link(world: Instances):
    on_b, on_a = directory_of(world.op_b, "kring-nationaal"), directory_of(world.op_a, "kring-twente")
    assert on_b[world.x]["status"] == "approved" and on_b[world.x]["level"] == "national"
    assert (on_a[world.y]["status"], on_a[world.z]["status"]) == ("approved", "offered")
    refused = world.op_a.post("/v1/links", json={"requester_network_id": world.x, "target_network_id": world.z,
                                                 "peer": "kring-twente"})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["violations"][0]["rule"] == "peer_network"


def test_a_rename_and_an_archive_on_a_show_in_bs_directory_of_a(world: Instances):
    tag = fresh_tag()
    w = network(world.op_a, f"Leerkring Oost {tag}", "local")
    eventually(lambda: directory_of(world.op_b, "kring-nationaal"), "the new network offered on B", ARRIVAL,
               accept=lambda found: found.get(w, {}).get("status") == "offered")

    ok(world.op_a.patch(f"/v1/networks/{world.x}", json={"name": f"BeterOud landelijk {tag}"}), 200)
    ok(world.op_a.post(f"/v1/networks/{w}/archive"), 200)

    found = eventually(lambda: directory_of(world.op_b, "kring-nationaal"), "the rename and the archive on B",
                       ARRIVAL, accept=lambda found: found[world.x]["name"] == f"BeterOud landelijk {tag}"
                       and found[w]["status"] == "withdrawn")
    assert found[world.x]["status"] == "approved"  # renamed in place, still linkable
    assert found[w]["withdrawn_reason"] == "archived"


def test_an_output_published_on_a_appears_in_the_linked_feed_on_b_and_travels_on_through_b(world: Instances):
    started = time.monotonic()
    output_id = publish(world, "Vraag eerst wat iemand zelf wil")
    eventually(lambda: live(world.op_b, world.y), "the output on B", ARRIVAL, accept=lambda ids: output_id in ids)
    crossed = time.monotonic() - started
    print(f"\ncross-instance delivery (publish on A → Y's feed on B): {crossed:.2f} s")

    [item] = [i for i in feed(world.op_b, world.y) if i["output"]["output_id"] == output_id]
    assert item["output"]["origin_network_id"] == world.x
    assert item["output"]["authors"] == [{"shown_as": "a participant with lived experience", "named": False,
                                          "role": "lived_experience"}]  # the code a client says in its language
    eventually(lambda: live(world.op_b, world.z),
               "on through B's hierarchy", ARRIVAL,
               accept=lambda ids: output_id in ids)
    deliveries = ok(world.op_b.get(f"/v1/outputs/{output_id}/deliveries"), 200)
    assert (deliveries["origin_network_id"], sorted(d["network_id"] for d in deliveries["items"])) == (
        world.x, sorted([world.y, world.z]))


def test_a_retraction_on_a_removes_the_copies_on_b(world: Instances):
    output_id = publish(world, "Een les die we terugnemen")
    eventually(lambda: live(world.op_b, world.y), "the output on B", ARRIVAL, accept=lambda ids: output_id in ids)

    ok(world.op_a.post(f"/v1/outputs/{output_id}/retract", json={"reason": "dubbel"}), 200)

    for network_id in (world.y, world.z):
        shown = eventually(lambda n=network_id: {i["output"]["output_id"]: i["output"] for i in feed(world.op_b, n)},
                           "the tombstone on B", ARRIVAL,
                           accept=lambda items: items.get(output_id, {}).get("retracted"))
        assert set(shown[output_id]) == {"output_id", "origin_network_id", "retracted", "retracted_at"}


def test_b_cannot_publish_as_a_network_it_does_not_host(world: Instances):
    as_a = PartnerClient(world.b.grpc, world.key_ab, world.pki.b.credentials(presenting=world.pki.a),
                         NAMES["kring-twente"])  # A's key on B: it speaks for X only
    try:
        code, _ = refused(lambda: as_a.PublishOutput(pb.PublishOutputRequest(
            network_id=world.y, client_output_id="forged", kind=pb.OUTPUT_KIND_LESSON, title="Niet van A",
            visibility=pb.VISIBILITY_FEDERATION)))
    finally:
        as_a.close()
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_b_relay_killed_mid_stream_and_restarted_misses_nothing_and_doubles_nothing(world: Instances):
    before = pid_of(world.b, "relay")
    first = [publish(world, f"Reeks 1, les {n}") for n in range(30)]
    eventually(lambda: live(world.op_b, world.y),
               "the first ones", ARRIVAL,
               accept=lambda ids: bool(set(first) & set(ids)))
    os.kill(before, signal.SIGKILL)  # while the batch streams in
    arrived_before_the_kill = len(set(first) & set(live(world.op_b, world.y)))
    second = [publish(world, f"Reeks 2, les {n}") for n in range(20)]

    eventually(lambda: pid_of(world.b, "relay"),
               "B's supervisor restarts the relay", 30,
               accept=lambda pid: pid != before)
    everything = first + second
    eventually(lambda: live(world.op_b, world.y),
               "every output on B", ARRIVAL * 2,
               accept=lambda ids: set(everything) <= set(ids))
    print(f"\n{arrived_before_the_kill} of 30 had arrived on B when its relay was killed")

    counts = Counter(i["output"]["output_id"] for i in feed(world.op_b, world.y))
    assert {output_id: counts[output_id] for output_id in everything} == dict.fromkeys(everything, 1)
    for output_id in (first[0], first[-1], second[-1]):
        recipients = [d["network_id"] for d in ok(world.op_b.get(f"/v1/outputs/{output_id}/deliveries"), 200)["items"]]
        assert sorted(recipients) == sorted([world.y, world.z])
    state = peer_state(world.op_b, "kring-nationaal")
    assert state["refused_entries"] == 0


def test_a_key_revoked_on_a_stops_b_relay_with_a_clear_error_in_b_peer_state(world: Instances):
    ok(world.op_a.post(f"/v1/partners/{world.partner_of_b_on_a}/revoke"), 200)

    state = eventually(lambda: peer_state(world.op_b, "kring-nationaal")["state"],
                       "B's relay refused", ARRIVAL,
                       accept=lambda s: s["status"] == "refused")
    assert state["connected"] is False
    assert "UNAUTHENTICATED" in state["last_error"] and "revoked" in state["last_error"]
    assert "kring-nationaal" in state["last_error"]
    output_id = publish(world, "Na de intrekking")
    time.sleep(3)
    assert output_id not in live(world.op_b, world.y)  # nothing crosses any more


# --- TLS between the instances ---------------------------------------------------------------------------------


def test_the_instances_follow_each_other_over_mutual_tls_and_no_key_is_stored_in_the_clear(world: Instances):
    for client, peer in ((world.op_a, "kring-twente"), (world.op_b, "kring-nationaal")):
        shown = peer_state(client, peer)
        assert shown["transport"]["mode"] == "tls" and shown["transport"]["client_certificate"] is True
        eventually(lambda c=client, p=peer: peer_state(c, p)["state"], f"{peer} answered over mutual TLS", ARRIVAL,
                   accept=lambda s, p=peer: s["remote_instance"] == p)
    assert (world.a.data_dir / "federation-key").exists()  # kring run made the key peer keys are encrypted with


def test_a_gateway_refuses_a_client_without_a_certificate_and_one_speaking_plaintext(world: Instances):
    anonymous = PartnerClient(world.b.grpc, world.key_ab, grpc.ssl_channel_credentials(world.pki.b.ca.pem),
                              NAMES["kring-twente"])
    plaintext = PartnerClient(world.b.grpc, world.key_ab)
    try:
        for client in (anonymous, plaintext):
            code, _ = refused(lambda c=client: c.GetInstance(pb.GetInstanceRequest(), timeout=5))
            assert code == grpc.StatusCode.UNAVAILABLE
    finally:
        anonymous.close()
        plaintext.close()


def test_an_instance_presenting_an_expired_client_certificate_is_refused_saying_so(world: Instances):
    expired = world.pki.a.ca.issue("kring-nationaal", client=True, expired=True).write(world.pki.directory,
                                                                                          "expired-client")
    client = PeerClient("kring-twente", world.b.grpc, world.key_ab, timeout=5, transport=world.pki.b.transport(),
                        identity=ClientIdentity(*expired))
    try:
        with pytest.raises(PeerRefused, match="TLS handshake failed: the peer refused our client certificate: "
                                              "certificate expired"):
            client.get_instance()
    finally:
        client.close()


class Answering(federation_pb2_grpc.FederationServicer):
    def GetInstance(self, request, context):
        return pb.Instance(id="kring-verlopen", name="Verlopen", version="test", api_version="v1")


@pytest.mark.parametrize(("instance_id", "why"), [
    ("kring-twente-other-ca", "TLS handshake failed: the peer's certificate: unable to get local issuer certificate"),
    ("kring-twente-other-name", "TLS handshake failed: the peer's certificate: Hostname mismatch"),
    ("kring-twente-no-client-certificate", "TLS handshake failed: the peer requires a client certificate and we "
                                           "presented none"),
    ("kring-verlopen", "TLS handshake failed: the peer's certificate: certificate has expired"),
])
def test_a_peer_with_the_wrong_certificate_or_none_is_refused_and_the_relay_state_says_why(
        world: Instances, instance_id: str, why: str):
    stranger = CertificateAuthority("Someone else's CA")
    transports = {
        "kring-twente-other-ca": world.pki.b.transport(ca_bundle=stranger.pem.decode()),
        "kring-twente-other-name": world.pki.b.transport(server_name="kring-elders.test"),
        "kring-twente-no-client-certificate": world.pki.b.transport(client_certificate=False),
    }
    server = None
    address = world.b.grpc
    if instance_id == "kring-verlopen":  # a gateway whose certificate expired, signed by B's CA
        cert, key = world.pki.b.ca.issue("kring-twente", dns=(NAMES["kring-twente"],), expired=True).write(
            world.pki.directory, "expired-server")
        server = grpc.server(ThreadPoolExecutor(max_workers=2))
        federation_pb2_grpc.add_FederationServicer_to_server(Answering(), server)
        tls = grpc_server_credentials(Settings(grpc_tls_cert_file=cert, grpc_tls_key_file=key))
        assert tls is not None
        address = f"127.0.0.1:{server.add_secure_port(f'127.0.0.1:{free_port()}', tls[0])}"
        server.start()
    try:
        ok(world.op_a.post("/v1/peers", json={
            "instance_id": instance_id, "name": "Not quite Kring Twente", "address": address,
            "api_key": "kpk_never-presented", "transport": transports.get(instance_id, world.pki.b.transport())}),
           201)
        state = eventually(lambda: peer_state(world.op_a, instance_id)["state"], f"A's relay refuses {instance_id}",
                           ARRIVAL, accept=lambda s: s["status"] == "refused")
        assert why in state["last_error"] and state["connected"] is False
        assert state["remote_instance"] is None
    finally:
        world.op_a.delete(f"/v1/peers/{instance_id}")
        if server is not None:
            server.stop(0)
