"""A peer's directory of networks, through the real handlers on a migrated SQLite database: what the relay read
there kept in sync here (new networks offered, renamed ones updated in place, archived or vanished ones
withdrawn, the same reading twice changing nothing), and the operator approving which of them may link."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from services.federation.partners import handlers as partners
from services.federation.partners.handlers import hash_key
from services.federation.peers import directory
from services.federation.peers import handlers as peers
from services.federation.peers import links as peer_links
from services.federation.peers.schemas import PeerNetworkQuery, RequestPeerLink, SyncPeerDirectory
from services.federation.schemas import BlockSubject, RegisterPartner
from tests.support.callers import OPERATOR, member
from tests.unit.test_federation_ingest import follow, register_instance
from tests.unit.test_federation_world import World, open_world

PEER = "kring-a"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


@pytest.fixture
def followed(world: World) -> World:
    """This instance hosts y, follows kring-a, and has registered kring-a as a partner without remote networks."""
    world.networks("y")
    follow(world)
    register_bare(world)
    return world


def register_bare(world: World) -> Any:
    return peers.register_instance(OPERATOR, RegisterPartner(name="Kring A", kind="instance", instance_id=PEER),
                                   world.uow, world.lookup)


def net(network_id: str, name: str | None = None, theme: str = "eenzaamheid", status: str = "active") -> dict:
    return {"id": network_id, "name": name or f"Netwerk {network_id}", "theme": theme, "level": "regional",
            "kind": "werkplaats", "status": status}


def sync(world: World, *networks: dict, instance_id: str = PEER) -> tuple[int, int, int]:
    done = directory.sync_peer_directory(instance_id, SyncPeerDirectory.model_validate({"networks": networks}),
                                         world.uow)
    return done.added, done.changed, done.unchanged


def listed(world: World, status: str | None = None) -> dict[str, Any]:
    return {n.network_id: n for n in directory.list_peer_networks(OPERATOR, PEER, PeerNetworkQuery(status=status),
                                                                   world.uow)}


def approve(world: World, network_id: str) -> Any:
    return directory.approve_peer_network(OPERATOR, PEER, network_id, world.uow, world.lookup)


def partner_networks(world: World) -> list[str]:
    with world.uow:
        partner = world.uow.partners.of_instance(PEER)
        assert partner is not None
        return partner["network_ids"]


def read_model(world: World, network_id: str) -> Any:
    with world.uow:
        return world.uow.read_models.network(network_id)


# --- the relay's readings ---------------------------------------------------------------------------------------


def test_new_networks_in_the_peers_directory_are_offered_and_not_yet_linkable(followed: World):
    assert sync(followed, net("x1"), net("x2")) == (2, 0, 0)

    seen = listed(followed)
    assert {k: v.status for k, v in seen.items()} == {"x1": "offered", "x2": "offered"}
    assert (seen["x1"].name, seen["x1"].level, seen["x1"].kind) == ("Netwerk x1", "regional", "werkplaats")
    assert partner_networks(followed) == []
    assert read_model(followed, "x1") is None


def test_reading_the_same_directory_twice_changes_nothing_and_records_no_event(followed: World):
    sync(followed, net("x1"), net("x2"))
    approve(followed, "x1")
    events = followed.link_events()
    before = listed(followed)

    assert sync(followed, net("x1"), net("x2")) == (0, 0, 2)

    after = listed(followed)
    assert {k: (v.status, v.name, v.changed_at) for k, v in after.items()} == \
        {k: (v.status, v.name, v.changed_at) for k, v in before.items()}
    assert followed.link_events() == events


def test_a_renamed_network_is_updated_in_place_and_an_approved_one_in_the_federation_directory_too(followed: World):
    sync(followed, net("x1"), net("x2"))
    approve(followed, "x1")

    assert sync(followed, net("x1", "Werkplaats Oost", theme="armoede"), net("x2", "Leerkring Zuid")) == (0, 2, 0)

    seen = listed(followed)
    assert (seen["x1"].name, seen["x1"].theme, seen["x1"].status) == ("Werkplaats Oost", "armoede", "approved")
    assert seen["x2"].name == "Leerkring Zuid"
    assert (read_model(followed, "x1").name, read_model(followed, "x1").theme) == ("Werkplaats Oost", "armoede")
    assert read_model(followed, "x2") is None  # offered only: not in the federation's directory


def test_a_network_archived_on_the_peer_is_withdrawn_and_an_approved_one_stops_being_linkable(followed: World):
    sync(followed, net("x1"), net("x2"))
    approve(followed, "x1")

    assert sync(followed, net("x1", status="archived"), net("x2", status="archived")) == (0, 2, 0)

    seen = listed(followed)
    assert {k: (v.status, v.withdrawn_reason) for k, v in seen.items()} == \
        {"x1": ("withdrawn", "archived"), "x2": ("withdrawn", "archived")}
    assert partner_networks(followed) == []
    assert read_model(followed, "x1").status == "archived"
    assert followed.link_events()[-1] == "partner.networks_changed"
    with pytest.raises(ValidationFailed) as refused:
        followed.link("y", "x1")
    assert refused.value.violations[0]["rule"] == "active"


def test_a_network_no_longer_listed_is_withdrawn_as_gone_and_listed_again_is_offered_again(followed: World):
    sync(followed, net("x1"), net("x2"))
    approve(followed, "x1")

    assert sync(followed, net("x2")) == (0, 1, 1)
    assert (listed(followed)["x1"].status, listed(followed)["x1"].withdrawn_reason) == ("withdrawn", "gone")
    assert partner_networks(followed) == []
    assert sync(followed, net("x2")) == (0, 0, 1)  # withdrawn stays withdrawn, once

    assert sync(followed, net("x1"), net("x2")) == (0, 1, 1)
    assert (listed(followed)["x1"].status, listed(followed)["x1"].withdrawn_reason) == ("offered", None)
    assert read_model(followed, "x1").status == "archived"  # until it is approved again
    approve(followed, "x1")
    assert read_model(followed, "x1").status == "active"


def test_existing_links_of_a_withdrawn_network_stay_but_carry_nothing(followed: World):
    sync(followed, net("x1"))
    approve(followed, "x1")
    link = followed.link("x1", "y")
    sync(followed)

    assert followed.feed("y") == []
    with followed.uow:
        assert followed.uow.links.get(link.link_id).status == "active"
        assert "x1" in followed.uow.read_models.closed_networks()


def test_networks_registered_by_hand_that_the_peer_lists_are_approved(world: World):
    world.networks("y")
    follow(world)
    register_instance(world, networks=("x1",))

    assert sync(world, net("x1", "Netwerk x1 op kring-a"), net("x2")) == (2, 0, 0)

    assert {k: v.status for k, v in listed(world).items()} == {"x1": "approved", "x2": "offered"}


def test_a_directory_is_kept_for_a_configured_peer_only(world: World):
    with pytest.raises(NotFound):
        sync(world, net("x1"))


def test_a_filter_by_status_lists_those_networks_only(followed: World):
    sync(followed, net("x1"), net("x2"), net("x3"))
    approve(followed, "x1")
    sync(followed, net("x1"), net("x2"))

    assert list(listed(followed, "approved")) == ["x1"]
    assert list(listed(followed, "offered")) == ["x2"]
    assert list(listed(followed, "withdrawn")) == ["x3"]


def test_the_relay_asks_about_the_networks_held_as_listed(followed: World):
    sync(followed, net("x1"), net("x2"))
    sync(followed, net("x1"))

    assert directory.held_directory(PEER, followed.uow) == ["x1"]


# --- approval -------------------------------------------------------------------------------------------------------


def test_approving_makes_the_network_one_of_the_peer_partners_and_linkable(followed: World):
    sync(followed, net("x1"))
    approved = approve(followed, "x1")

    assert approved.status == "approved" and approved.approved_at is not None
    assert partner_networks(followed) == ["x1"]
    with followed.uow:
        assert followed.uow.remote_networks.instance_of("x1") == PEER
    assert followed.link_events()[-1] == "partner.networks_changed"
    start = peer_links.begin_peer_link(OPERATOR, RequestPeerLink(requester_network_id="y", target_network_id="x1",
                                                                 peer=PEER), followed.uow, followed.lookup)
    assert start.link.status == "requested"


def test_approving_twice_changes_nothing(followed: World):
    sync(followed, net("x1"))
    first = approve(followed, "x1")
    events = followed.link_events()

    assert approve(followed, "x1") == first
    assert followed.link_events() == events


def test_approving_needs_the_instance_registered_as_a_partner(world: World):
    world.networks("y")
    follow(world)
    sync(world, net("x1"))

    with pytest.raises(Conflict) as refused:
        approve(world, "x1")
    assert (refused.value.violations[0]["field"], refused.value.violations[0]["rule"]) == \
        ("instance_id", "registered_partner")


def test_a_withdrawn_network_cannot_be_approved(followed: World):
    sync(followed, net("x1", status="archived"), net("x2"))
    sync(followed, net("x2"))
    sync(followed, net("x1", status="archived"))

    with pytest.raises(Conflict) as refused:
        approve(followed, "x2")
    assert refused.value.violations[0]["rule"] == "offered"


def test_a_network_the_peer_does_not_list_or_an_unknown_peer_is_not_found(followed: World):
    sync(followed, net("x1"))
    with pytest.raises(NotFound) as unknown:
        approve(followed, "x9")
    assert unknown.value.violations[0]["field"] == "network_id"
    with pytest.raises(NotFound) as no_peer:
        directory.approve_peer_network(OPERATOR, "kring-z", "x1", followed.uow, followed.lookup)
    assert no_peer.value.violations[0]["field"] == "instance_id"


def test_a_network_of_this_instance_or_of_another_partner_cannot_be_approved(followed: World):
    register_instance(followed, instance_id="kring-c", networks=("x2",))
    sync(followed, net("y"), net("x2"))

    for network_id, rule in (("y", "remote"), ("x2", "unowned")):
        with pytest.raises(Conflict) as refused:
            approve(followed, network_id)
        assert refused.value.violations[0]["rule"] == rule


def test_a_blocked_partners_networks_cannot_be_approved(followed: World):
    sync(followed, net("x1"))
    partner = next(p for p in partners.list_partners(OPERATOR, followed.uow) if p.instance_id == PEER)
    partners.block_partner(OPERATOR, partner.partner_id, BlockSubject(reason="misbruik"), followed.uow)

    with pytest.raises(Conflict) as refused:
        approve(followed, "x1")
    assert refused.value.violations[0]["rule"] == "not_blocked"


def test_withdrawing_approval_takes_the_network_from_the_partner_and_keeps_it_offered(followed: World):
    key = partners.rotate_partner_key(
        OPERATOR, next(p for p in partners.list_partners(OPERATOR, followed.uow) if p.instance_id == PEER).partner_id,
        followed.uow)
    sync(followed, net("x1"))
    approve(followed, "x1")
    assert partners.authenticate_partner(hash_key(key.api_key), followed.uow).network_ids == ["x1"]

    after = directory.withdraw_approval(OPERATOR, PEER, "x1", followed.uow)

    assert (after.status, after.approved_at) == ("offered", None)
    assert partners.authenticate_partner(hash_key(key.api_key), followed.uow).network_ids == []
    assert read_model(followed, "x1").status == "archived"
    with pytest.raises(ValidationFailed) as refused:
        peer_links.begin_peer_link(OPERATOR, RequestPeerLink(requester_network_id="y", target_network_id="x1",
                                                             peer=PEER), followed.uow, followed.lookup)
    assert refused.value.violations[0]["rule"] == "peer_network"
    events = followed.link_events()
    assert directory.withdraw_approval(OPERATOR, PEER, "x1", followed.uow).status == "offered"
    assert followed.link_events() == events


def test_the_directory_and_approval_are_the_operators(followed: World):
    sync(followed, net("x1"))
    someone = member("m-1", administers={"y"})
    for attempt in (lambda: directory.list_peer_networks(someone, PEER, PeerNetworkQuery(), followed.uow),
                    lambda: directory.approve_peer_network(someone, PEER, "x1", followed.uow, followed.lookup),
                    lambda: directory.withdraw_approval(someone, PEER, "x1", followed.uow)):
        with pytest.raises(PermissionDenied):
            attempt()


def test_an_instance_partner_may_be_registered_without_remote_networks(world: World):
    key = register_bare(world)
    assert (key.kind, key.instance_id, key.network_ids) == ("instance", PEER, [])
