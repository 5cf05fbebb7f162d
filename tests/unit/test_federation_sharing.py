"""Sharing, retraction, attribution and backfill through the real handlers on a migrated SQLite database:
an output reaches its audience once, in order of sharing; a retraction leaves tombstones, and one that comes
first keeps the output out; erasure and attribution changes rewrite every copy; a newly active link brings a
bounded, marked backfill."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.common.catalogue import Attribution
from services.federation.domain.copies import FORMER_MEMBER, PUBLIC_FEED, without_author
from services.federation.handlers import links, queries
from services.federation.handlers.sharing import BACKFILL_LIMIT
from services.federation.schemas import AcceptLink, BlockSubject
from services.sessions.domain.outputs import attribution
from services.sessions.domain.read_models import Person, new_pseudonym
from tests.support.callers import OPERATOR
from tests.unit.test_federation_world import World, open_world, policy

FATIMA = Attribution(member_id="m-fatima", shown_as="Fatima el Amrani", named=True)
BRAM = Attribution(member_id="m-bram", shown_as="a practitioner", named=False)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


@pytest.fixture
def star(world: World) -> World:
    """hub linked to a, b and c; a's link admits only linked outputs from the hub."""
    world.networks("hub", "a", "b", "c", "far")
    world.link("hub", "a", policy("linked"))
    world.link("hub", "b")
    world.link("hub", "c")
    world.link("c", "far")
    return world


# --- sharing ---------------------------------------------------------------------------------------------------


def test_an_output_reaches_each_network_of_its_audience_once_and_never_its_origin(star: World) -> None:
    shared = star.publish("hub", "federation")
    assert sorted(star.recipients(shared.output_id)) == ["b", "c", "far"]
    assert {n: star.live(n) for n in ("a", "b", "c", "far", "hub")} == {
        "a": [], "b": [shared.output_id], "c": [shared.output_id], "far": [shared.output_id], "hub": []}


def test_a_linked_output_stops_at_the_direct_neighbours(star: World) -> None:
    shared = star.publish("hub", "linked")
    assert sorted(star.recipients(shared.output_id)) == ["a", "b", "c"]


def test_a_network_only_output_is_known_but_delivered_nowhere(star: World) -> None:
    private = star.publish("hub", "network")
    assert star.recipients(private.output_id) == []
    assert star.stored(private.output_id)["visibility"] == "network"


def test_a_public_output_also_reaches_the_public_feed_unless_its_origin_is_blocked(star: World) -> None:
    public = star.publish("hub", "public")
    assert star.live(PUBLIC_FEED) == [public.output_id]
    links.block_network(OPERATOR, "far", BlockSubject(), star.uow, star.lookup)
    star.publish("far", "public")
    assert star.live(PUBLIC_FEED) == [public.output_id]


def test_an_archived_origin_still_reaches_the_public_feed_but_no_network(star: World) -> None:
    star.network("hub", status="archived")
    public = star.publish("hub", "public")
    assert star.recipients(public.output_id) == [PUBLIC_FEED]


def test_feeds_are_in_order_of_sharing(star: World) -> None:
    ids = [star.publish("hub", "linked").output_id for _ in range(5)]
    assert star.live("b") == ids
    positions = [item.position for item in star.feed("b")]
    assert positions == sorted(positions) and len(set(positions)) == 5


def test_the_copy_carries_origin_session_and_authors_as_attributed_never_member_ids(star: World) -> None:
    shared = star.publish("hub", "linked", authors=(FATIMA, BRAM), themes=("wonen",))
    [item] = star.feed("b")
    assert (item.network_id, item.backfill) == ("b", False)
    copy = item.output
    assert (copy["origin_network_id"], copy["session_id"], copy["themes"]) == ("hub", "s-1", ["wonen"])
    assert copy["authors"] == [{"shown_as": "Fatima el Amrani", "named": True, "role": None},
                               {"shown_as": "a practitioner", "named": False, "role": "practitioner"}]
    assert "m-fatima" not in json.dumps(copy) and "member_id" not in json.dumps(copy)
    assert star.stored(shared.output_id)["author_ids"] == ["m-fatima", "m-bram"]


def test_the_role_code_is_added_when_a_feed_is_read_and_never_stored_in_the_copy(star: World) -> None:
    shared = star.publish("hub", "linked", authors=(FATIMA, BRAM))
    assert [a.get("role") for a in star.feed("b")[0].output["authors"]] == [None, "practitioner"]
    assert all("role" not in a for a in star.stored(shared.output_id)["copy"]["authors"])


def test_a_redelivered_or_duplicated_publication_changes_nothing(star: World) -> None:
    event_id = uuid.uuid4()
    shared = star.publish("hub", "federation", event_id=event_id)
    assert star.publish_event(shared, event_id) is False  # the same envelope again
    assert star.publish_event(shared) is True  # another envelope, the same output id
    assert star.live("b") == [shared.output_id]
    assert len(star.log(["b"])) == 1


def test_the_audience_is_decided_when_the_output_is_shared(star: World) -> None:
    before = star.publish("hub", "federation")
    star.network("late")
    link = star.link("hub", "late", target_policy=policy())  # late shares nothing back
    after = star.publish("hub", "federation")
    assert [(i.output["output_id"], i.backfill) for i in star.feed("late")] == [
        (before.output_id, True), (after.output_id, False)]
    links.revoke_link(OPERATOR, link.link_id, star.uow)
    star.publish("hub", "federation")
    assert star.live("late") == [before.output_id, after.output_id]  # what arrived stays; nothing new flows


def test_a_blocked_network_receives_nothing_new(star: World) -> None:
    links.block_network(OPERATOR, "b", BlockSubject(), star.uow, star.lookup)
    shared = star.publish("hub", "federation")
    assert "b" not in star.recipients(shared.output_id)


# --- retraction ------------------------------------------------------------------------------------------------


def test_a_retraction_replaces_every_copy_with_a_tombstone(star: World) -> None:
    shared = star.publish("hub", "public", authors=(FATIMA,))
    kept = star.publish("hub", "public")
    assert star.retract(shared.output_id, "hub")
    for network in ("b", "c", "far", PUBLIC_FEED):
        assert (star.live(network), star.tombstones(network)) == ([kept.output_id], [shared.output_id])
    assert all(d.tombstoned_at is not None for d in queries.delivery_log(OPERATOR, shared.output_id, star.uow).items)
    [tombstone] = [i.output for i in star.feed("b") if i.output.get("retracted")]
    assert set(tombstone) == {"output_id", "origin_network_id", "retracted", "retracted_at"}
    assert "Fatima" not in json.dumps([i.output for i in star.feed("b")])


def test_a_retraction_is_logged_once_per_recipient_and_a_second_one_changes_nothing(star: World) -> None:
    shared = star.publish("hub", "linked")
    star.retract(shared.output_id, "hub")
    star.retract(shared.output_id, "hub")
    retracted = [(e.network_id, e.kind) for e in star.log() if e.kind == "retracted"]
    assert sorted(retracted) == [("a", "retracted"), ("b", "retracted"), ("c", "retracted")]


def test_a_retraction_that_arrives_first_keeps_the_output_out_for_good(star: World) -> None:
    early = star.output("hub", "public")
    star.retract(early.output_id, "hub")
    star.publish_event(early)
    assert star.recipients(early.output_id) == []
    assert all(early.output_id not in [i.output["output_id"] for i in star.feed(n)]
               for n in ("a", "b", "c", "far", PUBLIC_FEED))
    assert star.log() == []


# --- erasure and attribution -----------------------------------------------------------------------------------


def test_an_erased_author_appears_as_a_former_member_in_every_copy(star: World) -> None:
    shared = star.publish("hub", "federation", authors=(FATIMA, BRAM))
    other = star.publish("hub", "federation", authors=(BRAM,))
    star.erase("m-fatima")
    for network in ("b", "c", "far"):
        copies = {i.output["output_id"]: i.output["authors"] for i in star.feed(network)}
        assert copies[shared.output_id] == [{"shown_as": FORMER_MEMBER, "named": False, "role": "former_member"},
                                            {"shown_as": "a practitioner", "named": False, "role": "practitioner"}]
        assert copies[other.output_id] == [{"shown_as": "a practitioner", "named": False, "role": "practitioner"}]
    assert "m-fatima" not in json.dumps(star.stored(shared.output_id), default=str)
    assert [(e.kind, e.output["authors"][0]["shown_as"]) for e in star.log(["b"])][-1] == ("updated", FORMER_MEMBER)


def test_a_second_erasure_finds_nothing_and_logs_nothing(star: World) -> None:
    star.publish("hub", "linked", authors=(FATIMA,))
    star.erase("m-fatima")
    before = star.log()
    star.erase("m-fatima")
    assert star.log() == before


def test_an_attribution_change_rewrites_every_copy_and_is_logged_as_an_update(star: World) -> None:
    shared = star.publish("hub", "linked", authors=(FATIMA,))
    withdrawn = Attribution(member_id="m-fatima", shown_as="a participant with lived experience", named=False)
    star.reattribute(shared.output_id, "hub", [withdrawn])
    assert [i.output["authors"] for i in star.feed("b")] == [[{"shown_as": withdrawn.shown_as, "named": False,
                                                              "role": "lived_experience"}]]
    assert "Fatima" not in json.dumps([e.output for e in star.log()])
    assert sorted(e.network_id for e in star.log() if e.kind == "updated") == ["a", "b", "c"]


def test_an_attribution_change_of_a_retracted_output_changes_nothing(star: World) -> None:
    shared = star.publish("hub", "linked", authors=(FATIMA,))
    star.retract(shared.output_id, "hub")
    before = star.log()
    star.reattribute(shared.output_id, "hub", [BRAM])
    assert star.log() == before and star.stored(shared.output_id)["copy"] is None


@pytest.mark.parametrize("erasure_first", [True, False])
def test_erasure_and_the_sessions_attribution_change_end_in_the_same_copy_whichever_comes_first(
        star: World, erasure_first: bool) -> None:
    fatima = Person("m-fatima", 2, "Fatima el Amrani", (), True)
    bram = Person("m-bram", 2, "Bram", (), False)
    shared = star.publish("hub", "linked", authors=(attribution(fatima, False), attribution(bram, False)))
    # What the sessions service announces after pseudonymising her: her pseudonym, "a former member".
    after_erasure = [attribution(Person.unknown(new_pseudonym()), False), attribution(bram, False)]
    steps = [lambda: star.erase("m-fatima"), lambda: star.reattribute(shared.output_id, "hub", after_erasure)]
    for step in steps if erasure_first else reversed(steps):
        step()
    stored = star.stored(shared.output_id)
    assert stored["copy"]["authors"] == [{"shown_as": FORMER_MEMBER, "named": False},
                                         {"shown_as": "a participant", "named": False}]
    assert "m-fatima" not in stored["author_ids"] and stored["author_ids"][1] == "m-bram"
    star.erase("m-fatima")  # redelivered under another envelope: nothing left to rewrite
    star.reattribute(shared.output_id, "hub", after_erasure)  # and the change again
    assert star.stored(shared.output_id)["copy"] == stored["copy"]


def test_without_author_replaces_only_the_erased_members_places() -> None:
    copy = {"authors": [{"shown_as": "A", "named": True}, {"shown_as": "B", "named": False}]}
    rewritten, ids = without_author(copy, ["m-a", "m-b"], "m-a")
    assert rewritten["authors"] == [{"shown_as": FORMER_MEMBER, "named": False}, {"shown_as": "B", "named": False}]
    assert ids == ["", "m-b"]


def test_an_attribution_change_that_overtakes_the_publication_still_reaches_the_copy(star: World) -> None:
    """Consumers read output.published and output.attribution_changed from different queues, so the change
    (an author withdrew consent a moment after publishing) can arrive first. FAILS today: the change is
    dropped because the output is unknown, and the copy keeps the name for good (see the report)."""
    shared = star.output("hub", "linked", authors=(FATIMA,))
    withdrawn = Attribution(member_id="m-fatima", shown_as="a participant with lived experience", named=False)
    star.reattribute(shared.output_id, "hub", [withdrawn])
    star.publish_event(shared)
    assert "Fatima" not in json.dumps([i.output for i in star.feed("b")])


def test_an_older_attribution_change_arriving_late_does_not_undo_a_newer_one(star: World) -> None:
    """Redelivered or reordered events change nothing: a late consent-given change must not bring a name back
    after the consent was withdrawn. FAILS today: the last one applied wins (see the report)."""
    shared = star.publish("hub", "linked", authors=(BRAM,))
    t = datetime.now(UTC)
    named = Attribution(member_id="m-bram", shown_as="Bram", named=True)
    star.reattribute(shared.output_id, "hub", [BRAM], changed_at=t + timedelta(seconds=2))  # withdrawn
    star.reattribute(shared.output_id, "hub", [named], changed_at=t + timedelta(seconds=1))  # given, earlier
    assert [i.output["authors"] for i in star.feed("b")] == [[{"shown_as": "a practitioner", "named": False,
                                                              "role": "practitioner"}]]


# --- backfill --------------------------------------------------------------------------------------------------


def test_a_newly_active_link_backfills_earlier_admitted_outputs_both_ways_marked_as_backfill(world: World) -> None:
    world.networks("a", "b")
    from_a = [world.publish("a", v).output_id for v in ("linked", "federation", "public")]
    world.publish("a", "network")
    from_b = world.publish("b", "linked", themes=("wonen",))
    retracted = world.publish("a", "linked")
    world.retract(retracted.output_id, "a")
    world.link("a", "b", requester_policy=policy("linked", "public"), target_policy=policy("linked", themes=["wonen"]))
    assert [(i.output["output_id"], i.backfill) for i in world.feed("b")] == [
        (from_a[0], True), (from_a[2], True)]
    assert [(i.output["output_id"], i.backfill) for i in world.feed("a")] == [(from_b.output_id, True)]
    assert all(e.backfill for e in world.log(["a", "b"]))


def test_backfill_is_bounded_to_the_most_recent_outputs_oldest_first(world: World) -> None:
    world.networks("a", "b")
    ids = [world.publish("a", "linked").output_id for _ in range(BACKFILL_LIMIT + 3)]
    world.link("a", "b")
    assert world.live("b") == ids[-BACKFILL_LIMIT:]


def test_backfill_never_delivers_an_output_twice(world: World) -> None:
    world.networks("a", "b")
    link = world.link("a", "b")
    shared = world.publish("a", "linked")
    links.revoke_link(OPERATOR, link.link_id, world.uow)
    world.link("b", "a")  # linked again: the backfill finds it already delivered
    assert world.live("b") == [shared.output_id]
    assert len(world.log(["b"])) == 1


def test_backfill_skips_blocked_and_archived_networks(world: World) -> None:
    world.networks("a", "b", "c")
    world.publish("a", "linked")
    first = world.request("a", "b")
    with world.uow:
        world.uow.read_models.apply_network("b", 99, {"name": "b", "theme": "t", "status": "archived",
                                                      "parent_id": None})
        world.uow.commit()
    links.accept_link(OPERATOR, first.link_id, AcceptLink(), world.uow)
    assert world.live("b") == []


def test_a_hierarchy_link_backfills_too(world: World) -> None:
    world.network("national")
    shared = world.publish("national", "federation")
    world.network("regional", parent="national")
    assert [(i.output["output_id"], i.backfill) for i in world.feed("regional")] == [(shared.output_id, True)]


def test_the_backfill_bound_counts_only_outputs_the_policy_admits(world: World) -> None:
    """"A bounded backfill of earlier outputs that the new policy admits": up to BACKFILL_LIMIT admitted ones.
    FAILS today: the limit is applied before the policy, so BACKFILL_LIMIT newer network-only (or filtered)
    outputs hide every admitted one (see the report for the fix)."""
    world.networks("a", "b")
    admitted = world.publish("a", "linked")
    for _ in range(BACKFILL_LIMIT):
        world.publish("a", "network")
    world.link("a", "b")
    assert world.live("b") == [admitted.output_id]
