"""Entries from a peer instance's feed, applied by the real handlers on a migrated SQLite database: shared with
this instance's own links and audience rules, deduplicated by output id and by cursor, retracted and updated,
and refused when the peer claims an origin it does not host (the origin check)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.common.errors import NotFound, PermissionDenied
from services.federation.handlers import links
from services.federation.partners import handlers as partners
from services.federation.peers import handlers as peers
from services.federation.peers import ingest
from services.federation.peers.schemas import ConfigurePeer, IngestEntries, IngestResult
from services.federation.schemas import BlockSubject, PartnerKey, RegisterPartner
from tests.support.callers import OPERATOR
from tests.unit.test_federation_world import T0, World, open_world

PEER = "kring-a"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


def register_instance(world: World, instance_id: str = PEER, networks: tuple[str, ...] = ("x",)) -> PartnerKey:
    remote = [{"id": n, "name": f"Netwerk {n} op {instance_id}", "theme": "eenzaamheid"} for n in networks]
    cmd = RegisterPartner(name=f"Kring {instance_id}", kind="instance", instance_id=instance_id,
                          remote_networks=remote)
    return peers.register_instance(OPERATOR, cmd, world.uow, world.lookup)


def follow(world: World, instance_id: str = PEER) -> None:
    peers.configure_peer(OPERATOR, ConfigurePeer(instance_id=instance_id, name=f"Kring {instance_id}",
                                       address="kring-a.example.org:50051", api_key="kpk_from-the-peer"),
                         world.uow, world.lookup)


@pytest.fixture
def linked(world: World) -> World:
    """This instance (B) hosts y and its child z; peer A's network x is registered here and linked with y."""
    world.networks("y")
    world.network("z", parent="y")
    register_instance(world)
    follow(world)
    world.link("x", "y")
    return world


def copy(output_id: str, origin: str = "x", visibility: str = "federation", **fields: Any) -> dict[str, Any]:
    return {"output_id": output_id, "origin_network_id": origin, "session_id": "s-1", "kind": "lesson",
            "title": f"Les {output_id}", "body": "", "url": None, "resource_type": None, "themes": ["eenzaamheid"],
            "visibility": visibility, "licence": "CC-BY-4.0",
            "authors": [{"shown_as": "a participant with lived experience", "named": False}],
            "published_at": T0.isoformat(), **fields}


def shared(cursor: int, output_id: str, origin: str = "x", to: str = "y", **fields: Any) -> dict[str, Any]:
    return {"cursor": cursor, "network_id": to, "kind": "shared", "backfill": False,
            "output": copy(output_id, origin, **fields)}


def retracted(cursor: int, output_id: str, origin: str = "x", to: str = "y") -> dict[str, Any]:
    return {"cursor": cursor, "network_id": to, "kind": "retracted", "backfill": False,
            "tombstone": {"output_id": output_id, "origin_network_id": origin, "retracted_at": T0.isoformat()}}


def updated(cursor: int, output_id: str, authors: list[dict[str, Any]], origin: str = "x") -> dict[str, Any]:
    return {"cursor": cursor, "network_id": "y", "kind": "updated", "backfill": False,
            "output": copy(output_id, origin, authors=authors)}


def ingest_entries(world: World, *entries: dict[str, Any], peer: str = PEER) -> IngestResult:
    return ingest.ingest_from_peer(peer, IngestEntries(entries=list(entries)), world.uow)


def stored_cursor(world: World, peer: str = PEER) -> int:
    return peers.get_peer(OPERATOR, peer, world.uow).cursor


# --- sharing ---------------------------------------------------------------------------------------------------------


def test_a_peers_output_reaches_the_networks_linked_here_to_its_origin_and_the_cursor_is_stored(linked: World):
    result = ingest_entries(linked, shared(7, "o-1"))

    assert (result.applied, result.duplicates, result.refused, result.cursor) == (1, 0, [], 7)
    assert linked.live("y") == ["o-1"]
    assert stored_cursor(linked) == 7
    assert linked.stored("o-1")["source"] == f"peer:{PEER}"


def test_a_federation_output_travels_on_through_this_instances_graph_and_a_linked_one_does_not(linked: World):
    ingest_entries(linked, shared(1, "far", visibility="federation"), shared(2, "near", visibility="linked"))

    assert linked.live("y") == ["far", "near"]
    assert linked.live("z") == ["far"]  # y's child, one hop further on this instance


def test_the_copy_keeps_what_the_peer_showed_and_no_member_id(linked: World):
    ingest_entries(linked, shared(1, "o-1"))

    [item] = linked.feed("y")
    assert item.output["authors"] == [{"shown_as": "a participant with lived experience", "named": False,
                                       "role": "lived_experience"}]
    assert item.output["origin_network_id"] == "x" and item.output["title"] == "Les o-1"
    assert linked.stored("o-1")["author_ids"] == []


def test_the_same_batch_twice_changes_nothing(linked: World):
    batch = [shared(1, "o-1"), shared(2, "o-2")]
    ingest_entries(linked, *batch)
    again = ingest_entries(linked, *batch)

    assert (again.applied, again.duplicates, again.cursor) == (0, 2, 2)
    assert linked.live("y") == ["o-1", "o-2"]
    assert len(linked.log(["y"])) == 2


def test_the_same_output_in_two_of_our_feeds_there_is_shared_once_here(linked: World):
    result = ingest_entries(linked, shared(4, "o-1", to="y"), shared(5, "o-1", to="z"))

    assert (result.applied, result.duplicates, result.cursor) == (1, 1, 5)
    assert linked.recipients("o-1") == ["y", "z"]


def test_entries_are_applied_in_cursor_order_whatever_order_they_come_in(linked: World):
    ingest_entries(linked, retracted(9, "o-1"), shared(8, "o-1"))

    assert linked.live("y") == [] and linked.tombstones("y") == ["o-1"]
    assert stored_cursor(linked) == 9


def test_an_output_that_reached_one_of_ours_through_a_chain_on_the_peer_arrives_there(world: World):
    """On the peer: w → x → y. Here only x ↔ y is linked; w is another of the peer's networks."""
    world.networks("y")
    register_instance(world, networks=("x", "w"))
    follow(world)
    world.link("x", "y")
    ingest_entries(world, shared(1, "from-w", origin="w"))

    assert world.live("y") == ["from-w"]


def test_nothing_arrives_in_a_network_whose_link_with_the_peer_is_revoked_here(linked: World):
    [link] = [i for i in links.list_links(OPERATOR, "y", "active", linked.uow) if i.kind == "peer"]
    links.revoke_link(OPERATOR, link.link_id, linked.uow)
    result = ingest_entries(linked, shared(1, "late"))  # the peer has not noticed yet

    assert result.applied == 1 and linked.feed("y") == [] and linked.feed("z") == []


def test_a_linked_output_arrives_only_from_its_origin_and_goes_no_further(world: World):
    world.networks("y")
    world.network("z", parent="y")
    register_instance(world, networks=("x", "w"))
    follow(world)
    world.link("x", "y")
    ingest_entries(world, shared(1, "near", visibility="linked"), shared(2, "via-x", origin="w", visibility="linked"))

    assert world.live("y") == ["near"] and world.live("z") == []


def test_an_arrival_goes_on_through_our_networks_only_never_into_another_instances(world: World):
    world.networks("y")
    register_instance(world, networks=("x",))
    register_instance(world, "kring-c", networks=("c",))
    follow(world)
    world.link("x", "y")
    world.link("c", "y")  # asked by kring-c's partner here
    ingest_entries(world, shared(1, "o-1"))

    assert world.recipients("o-1") == ["y"]


def test_the_same_output_in_another_of_our_feeds_there_reaches_that_network_too(world: World):
    world.networks("y1", "y2")
    register_instance(world, networks=("x",))
    follow(world)
    world.link("x", "y1")
    world.link("x", "y2")
    result = ingest_entries(world, shared(1, "o-1", to="y1"), shared(2, "o-1", to="y2"))

    assert sorted(world.recipients("o-1")) == ["y1", "y2"] and result.applied == 2
    assert ingest_entries(world, shared(3, "o-1", to="y2")).duplicates == 1


def test_a_public_output_reaches_the_public_feed_here_only_when_it_arrived(linked: World):
    linked.networks("unlinked")
    ingest_entries(linked, shared(1, "open", visibility="public"), shared(2, "stray", visibility="public",
                                                                           to="unlinked"))

    assert linked.live("public") == ["open"] and linked.feed("unlinked") == []


# --- retraction and updates ----------------------------------------------------------------------------------------


def test_a_retraction_from_the_peer_tombstones_every_copy_here(linked: World):
    ingest_entries(linked, shared(1, "o-1"))
    ingest_entries(linked, retracted(2, "o-1"), retracted(3, "o-1", to="z"))

    assert linked.tombstones("y") == ["o-1"] and linked.tombstones("z") == ["o-1"]
    assert linked.live("y") == linked.live("z") == []


def test_a_retraction_that_arrives_first_keeps_the_output_out_for_good(linked: World):
    ingest_entries(linked, retracted(3, "o-1"))
    result = ingest_entries(linked, shared(4, "o-1"))

    assert (result.applied, result.duplicates) == (0, 1)
    assert linked.feed("y") == []


def test_an_update_from_the_peer_rewrites_the_authors_of_every_copy(linked: World):
    ingest_entries(linked, shared(1, "o-1"))
    former = [{"shown_as": "a former member", "named": False}]
    result = ingest_entries(linked, updated(2, "o-1", former))

    assert result.applied == 1
    assert [i.output["authors"] for i in linked.feed("y")] == [[{**former[0], "role": "former_member"}]]
    assert [e.kind for e in linked.log(["z"])] == ["shared", "updated"]
    assert ingest_entries(linked, updated(3, "o-1", former)).duplicates == 1  # the same authors again


def test_an_update_of_an_output_not_seen_yet_shares_it(linked: World):
    ingest_entries(linked, updated(5, "o-1", [{"shown_as": "Anouk", "named": True}]))

    assert linked.live("y") == ["o-1"]


# --- the origin check ------------------------------------------------------------------------------------------------


def test_an_output_whose_origin_the_peer_does_not_host_is_refused_recorded_and_passed(linked: World):
    linked.networks("w")  # a network of this instance
    result = ingest_entries(linked, shared(1, "forged", origin="w"), shared(2, "o-2"))

    assert [(r.cursor, r.output_id, r.origin_network_id, r.network_id) for r in result.refused] == [
        (1, "forged", "w", "y")]
    assert "not one of kring-a's networks" in result.refused[0].reason
    assert (result.applied, result.cursor) == (1, 2)
    assert linked.live("y") == ["o-2"]
    held = peers.get_peer(OPERATOR, PEER, linked.uow)
    assert (held.refused_entries, [s.output_id for s in held.skipped]) == (1, ["forged"])


def test_a_peer_cannot_retract_an_output_of_this_instance(linked: World):
    mine = linked.publish("y", "federation", output_id="mine")
    result = ingest_entries(linked, retracted(1, mine.output_id, origin="y"))

    assert len(result.refused) == 1
    assert linked.stored("mine")["retracted_at"] is None


def test_a_peer_cannot_reuse_the_id_of_an_output_of_another_origin(linked: World):
    linked.publish("y", "federation", output_id="mine")
    result = ingest_entries(linked, shared(1, "mine", origin="x"), retracted(2, "mine", origin="x"))

    assert [r.reason for r in result.refused] == ["output id already known here with origin y"] * 2
    assert linked.stored("mine")["retracted_at"] is None


def test_our_own_output_coming_back_through_the_peer_is_a_duplicate_not_a_refusal(linked: World):
    linked.publish("y", "federation", output_id="mine")
    result = ingest_entries(linked, shared(1, "mine", origin="y", to="y"))

    assert (result.duplicates, result.refused) == (1, [])


def test_a_network_only_output_is_refused(linked: World):
    result = ingest_entries(linked, shared(1, "private", visibility="network"))

    assert [r.reason for r in result.refused] == ["a network-only output never leaves its network"]
    assert linked.feed("y") == []


def test_an_invalid_entry_is_refused_with_the_rule_it_broke_and_the_rest_applied(linked: World):
    broken = shared(1, "o-1", title="")
    result = ingest_entries(linked, broken, shared(2, "o-2"))

    assert [r.cursor for r in result.refused] == [1]
    assert result.refused[0].reason.startswith("invalid entry: output.title")
    assert linked.live("y") == ["o-2"] and result.cursor == 2


def test_text_with_a_nul_character_from_a_peer_is_refused_naming_the_rule_and_recorded_without_it(linked: World):
    result = ingest_entries(linked, shared(1, "o-\x001", title="Les\x00"), shared(2, "o-2", body="a\x00b"),
                            shared(3, "o-3"))

    assert [r.cursor for r in result.refused] == [1, 2]
    assert result.refused[0].reason.startswith("invalid entry: output.")
    assert "NUL character" in result.refused[0].reason and "NUL character" in result.refused[1].reason
    assert result.refused[0].output_id == "o-\N{REPLACEMENT CHARACTER}1"  # what it said, as the database can keep
    recorded = peers.get_peer(OPERATOR, PEER, linked.uow).skipped
    assert not any("\x00" in str(s.model_dump()) for s in recorded)
    assert linked.live("y") == ["o-3"] and result.cursor == 3


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00"])
def test_a_time_from_a_peer_at_the_ends_of_the_calendar_is_refused_naming_the_rule_not_overflowing(linked: World,
                                                                                                   at: str):
    tombstone = retracted(2, "o-1")
    tombstone["tombstone"]["retracted_at"] = at
    result = ingest_entries(linked, shared(1, "o-1", published_at=at), tombstone, shared(3, "o-3"))

    assert [r.cursor for r in result.refused] == [1, 2]
    assert all("between the years 1000 and 8999" in r.reason for r in result.refused)
    assert linked.live("y") == ["o-3"] and result.cursor == 3


# --- who may be followed -------------------------------------------------------------------------------------------


def test_entries_from_an_instance_without_a_partner_here_are_refused(world: World):
    world.networks("y")
    follow(world, "kring-c")
    with pytest.raises(PermissionDenied, match="no partner of kind instance"):
        ingest_entries(world, shared(1, "o-1"), peer="kring-c")
    assert stored_cursor(world, "kring-c") == 0


def test_nothing_from_a_blocked_instance_is_applied(linked: World):
    partner = next(p for p in partners.list_partners(OPERATOR, linked.uow) if p.instance_id == PEER)
    partners.block_partner(OPERATOR, partner.partner_id, BlockSubject(reason="misbehaves"), linked.uow)

    with pytest.raises(PermissionDenied, match="blocked"):
        ingest_entries(linked, shared(1, "o-1"))
    assert linked.feed("y") == []


def test_entries_for_a_peer_that_is_not_configured_are_not_found(linked: World):
    with pytest.raises(NotFound):
        ingest_entries(linked, shared(1, "o-1"), peer="kring-unknown")
