"""Between instances, configuration and links, through the real handlers on a migrated SQLite database: another
instance registered as a partner with the networks it hosts, the peers this instance follows (their key never
shown), the state the relay reports, the feed head a reader asks for, and links whose other side is on a peer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from services.common.catalogue import SharingPolicy
from services.common.errors import Conflict, NotFound, ValidationFailed
from services.federation.partners import handlers as partners
from services.federation.partners.handlers import hash_key
from services.federation.peers import handlers as peers
from services.federation.peers import ingest
from services.federation.peers import links as peer_links
from services.federation.peers.schemas import (
    ConfigurePeer,
    IngestEntries,
    RemoteLink,
    ReportPeerState,
    RequestPeerLink,
)
from services.federation.schemas import RegisterPartner
from tests.support.callers import OPERATOR
from tests.unit.test_federation_ingest import follow, register_instance, shared
from tests.unit.test_federation_world import World, open_world

PEER = "kring-a"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


@pytest.fixture
def peered(world: World) -> World:
    """This instance hosts y; peer kring-a's network x is registered here, and kring-a is followed."""
    world.networks("y")
    register_instance(world)
    follow(world)
    return world


# --- another instance as a partner ----------------------------------------------------------------------------------


def test_an_instance_partner_owns_its_networks_which_join_the_directory_marked_as_remote(world: World):
    key = register_instance(world, networks=("x1", "x2"))

    assert (key.kind, key.instance_id, key.network_ids) == ("instance", PEER, ["x1", "x2"])
    assert partners.authenticate_partner(hash_key(key.api_key), world.uow).instance_id == PEER
    with world.uow:
        assert world.uow.remote_networks.instance_of("x1") == PEER
        assert world.uow.read_models.network("x1").status == "active"


def test_a_network_of_this_instance_cannot_be_registered_as_another_instances(world: World):
    world.networks("y")
    with pytest.raises(Conflict) as refused:
        register_instance(world, networks=("y",))
    assert refused.value.violations[0]["field"] == "remote_networks.0.id"


def test_an_instance_has_one_partner_at_most(world: World):
    register_instance(world, networks=("x1",))
    with pytest.raises(Conflict, match="rotate its key"):
        register_instance(world, networks=("x2",))


def test_an_organisation_needs_networks_and_an_instance_needs_its_id():
    """An instance's remote_networks are optional: without them its networks are approved from its directory."""
    for body, field in (({"name": "Movisie"}, "network_ids"),
                        ({"name": "Kring A", "kind": "instance", "remote_networks": [{"id": "x", "name": "X"}]},
                         "instance_id")):
        with pytest.raises(ValueError, match=field):
            RegisterPartner.model_validate(body)


# --- peers ----------------------------------------------------------------------------------------------------------


def test_a_peer_is_configured_with_a_key_that_no_answer_shows(peered: World):
    shown = peers.get_peer(OPERATOR, PEER, peered.uow)
    assert (shown.address, shown.cursor, shown.state.status) == ("kring-a.example.org:50051", 0, "configured")
    assert "kpk_from-the-peer" not in json.dumps([p.model_dump(mode="json") for p in peers.list_peers(OPERATOR,
                                                                                                      peered.uow)])
    assert "kpk_from-the-peer" not in repr(peers.relay_peers(peered.uow))
    assert [p.api_key for p in peers.relay_peers(peered.uow)] == ["kpk_from-the-peer"]  # for the relay only


def test_reconfiguring_a_peer_keeps_its_cursor_and_tells_the_relay(peered: World):
    ingest.ingest_from_peer(PEER, IngestEntries(entries=[shared(12, "o-1")]), peered.uow)
    before = peers.relay_peers(peered.uow)[0].config_revision
    peer, created = peers.configure_peer(OPERATOR, ConfigurePeer(instance_id=PEER, name="Kring A",
                                                                 address="new.example:443",
                                                       api_key="kpk_rotated-key"), peered.uow, peered.lookup)

    assert (created, peer.cursor, peer.address) == (False, 12, "new.example:443")
    assert peers.relay_peers(peered.uow)[0].config_revision == before + 1


def test_only_this_instances_networks_can_be_followed_there(peered: World):
    with pytest.raises(Conflict):
        peers.configure_peer(OPERATOR, ConfigurePeer(instance_id=PEER, name="A", address="a:1", api_key="kpk_12345678",
                                           local_network_ids=["x"]), peered.uow, peered.lookup)
    with pytest.raises(NotFound):
        peers.configure_peer(OPERATOR, ConfigurePeer(instance_id=PEER, name="A", address="a:1", api_key="kpk_12345678",
                                           local_network_ids=["nowhere"]), peered.uow, peered.lookup)


def test_the_relays_report_is_the_peers_state(peered: World):
    report = ReportPeerState(status="refused", connected=False, consecutive_failures=3,
                             last_error="peer kring-a refused the stream: UNAUTHENTICATED: unknown or revoked key")
    assert peers.report_peer_state(PEER, report, peered.uow) is True
    state = peers.get_peer(OPERATOR, PEER, peered.uow).state
    assert (state.status, state.consecutive_failures, state.updated_at is not None) == ("refused", 3, True)
    assert "UNAUTHENTICATED" in state.last_error
    assert peers.report_peer_state("kring-gone", report, peered.uow) is False


def test_removing_a_peer_stops_following_it_and_keeps_what_arrived(peered: World):
    peered.link("x", "y")
    ingest.ingest_from_peer(PEER, IngestEntries(entries=[shared(1, "o-1")]), peered.uow)
    peers.remove_peer(OPERATOR, PEER, peered.uow)

    assert peers.list_peers(OPERATOR, peered.uow) == [] and peered.live("y") == ["o-1"]
    with pytest.raises(NotFound):
        peers.remove_peer(OPERATOR, PEER, peered.uow)


def test_the_feed_head_counts_what_a_reader_at_a_cursor_has_still_to_read(peered: World):
    peered.networks("w", "v")
    peered.link("w", "v")
    first = peered.publish("w").output_id
    peered.publish("w")
    peered.retract(first, "w")

    head = peers.log_head(["v"], 0, peered.uow)
    assert (head.head_cursor, head.pending) == (peered.log(["v"])[-1].cursor, 3)  # two shares, one retraction
    assert peers.log_head(["v"], head.head_cursor, peered.uow).pending == 0
    assert peers.log_head([], 0, peered.uow).pending == 0


# --- links with a peer's networks -----------------------------------------------------------------------------------


def ask(world: World, requester: str = "y", target: str = "x", peer: str = PEER):
    return peer_links.begin_peer_link(OPERATOR, RequestPeerLink(requester_network_id=requester,
                                                                target_network_id=target,
                                                      peer=peer), world.uow, world.lookup)


def test_a_link_with_a_peers_network_starts_here_as_requested_and_the_peers_contact_is_read_apart(peered: World):
    start = ask(peered)
    contact = peers.peer_contact(PEER, peered.uow)

    assert (start.link.status, start.remote_link_id, start.call_peer) == ("requested", None, True)
    assert "kpk_" not in start.model_dump_json()  # a command's answer is kept for repeats: never with a key
    assert (contact.address, contact.api_key) == ("kring-a.example.org:50051", "kpk_from-the-peer")
    assert "kpk_" not in repr(contact)


@pytest.mark.parametrize(("requester", "target", "peer", "field"), [
    ("y", "w", PEER, "target_network_id"),  # w is ours, not the peer's
    ("x", "y", PEER, "target_network_id"),
])
def test_a_peer_link_joins_one_of_ours_with_one_of_the_peers(peered: World, requester, target, peer, field):
    peered.networks("w")
    with pytest.raises(ValidationFailed) as refused:
        ask(peered, requester, target, peer)
    assert refused.value.violations[0]["field"] == field


def test_a_link_with_a_peers_network_asked_without_the_peer_is_refused_so_the_peer_is_never_left_out(peered: World):
    with pytest.raises(ValidationFailed) as refused:
        peered.request("y", "x")
    assert refused.value.violations[0]["rule"] == "peer_required"
    assert peered.request("x", "y").status == "requested"  # the peer's partner asking here (its RequestLink)


def test_a_peer_link_needs_a_configured_peer(peered: World):
    with pytest.raises(NotFound):
        ask(peered, peer="kring-unknown")


def test_accepted_on_the_peer_the_link_becomes_active_here_with_the_peers_policy_and_a_backfill(peered: World):
    mine = peered.publish("y", "federation").output_id
    start = ask(peered)
    peer_links.attach_peer_link(start.link.link_id, PEER, RemoteLink(link_id="remote-1", status="requested"),
                                peered.uow)
    assert [link.remote_link_id for link in peer_links.open_peer_links(PEER, peered.uow)] == ["remote-1"]

    policy = SharingPolicy(visibilities=["federation"], themes=["eenzaamheid"])
    after = peer_links.follow_peer_link(start.link.link_id,
                                        RemoteLink(link_id="remote-1", status="active", target_policy=policy),
                                        peered.uow)

    assert (after.status, after.target_policy.visibilities) == ("active", ["federation"])
    assert peered.live("x") == [mine]  # the peer's network's feed here: what its relay will take


def test_asking_again_returns_the_link_with_the_peers_id(peered: World):
    start = ask(peered)
    peer_links.attach_peer_link(start.link.link_id, PEER, RemoteLink(link_id="remote-1", status="requested"),
                                peered.uow)
    again = ask(peered)
    assert (again.link.link_id, again.remote_link_id) == (start.link.link_id, "remote-1")


@pytest.mark.parametrize(("remote", "expected"), [("rejected", "rejected"), ("revoked", "revoked"),
                                                  ("blocked", "blocked"), ("requested", "requested")])
def test_a_requested_link_follows_the_peers_answer(peered: World, remote, expected):
    start = ask(peered)
    link = peer_links.attach_peer_link(start.link.link_id, PEER, RemoteLink(link_id="r", status=remote), peered.uow)
    assert link.status == expected


def test_an_active_link_ends_here_when_the_peer_revokes_it(peered: World):
    start = ask(peered)
    peer_links.attach_peer_link(start.link.link_id, PEER, RemoteLink(link_id="r", status="active"), peered.uow)
    after = peer_links.follow_peer_link(start.link.link_id, RemoteLink(link_id="r", status="revoked"), peered.uow)

    assert after.status == "revoked" and peer_links.open_peer_links(PEER, peered.uow) == []


def test_a_request_the_peer_refused_is_revoked_here_and_one_it_holds_is_not(peered: World):
    start = ask(peered)
    assert peer_links.abandon_peer_link(start.link.link_id, peered.uow).status == "revoked"

    held = ask(peered)
    peer_links.attach_peer_link(held.link.link_id, PEER, RemoteLink(link_id="r", status="requested"), peered.uow)
    assert peer_links.abandon_peer_link(held.link.link_id, peered.uow).status == "requested"


def test_the_key_of_a_peer_is_stored_encrypted_and_in_no_table_in_the_clear(peered: World):
    with peered.engine.connect() as conn:
        tables = [r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))]
        holding = [t for t in tables if "kpk_from-the-peer" in json.dumps(
            [list(map(str, row)) for row in conn.execute(text(f'SELECT * FROM "{t}"'))])]
        stored = conn.execute(text("SELECT api_key FROM peers")).scalar_one()
    assert holding == []
    assert peered.uow.peer_keys is not None and peered.uow.peer_keys.open(stored) == "kpk_from-the-peer"
