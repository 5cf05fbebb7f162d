"""Reading the federation: a feed page by page, the log partners stream from (its cursor moves past everything
read, shown or passed over), the delivery record per output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.errors import NotFound, PermissionDenied, ValidationFailed
from services.federation.handlers import queries
from services.federation.schemas import FeedQuery, LogQuery
from tests.support.callers import OPERATOR, THE_GATEWAY, member
from tests.unit.test_federation_world import World, open_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


@pytest.fixture
def pair(world: World) -> World:
    world.networks("a", "b", "c")
    world.link("a", "b")
    world.link("a", "c")
    return world


def test_a_feed_is_read_page_by_page_in_order_of_sharing(pair: World) -> None:
    ids = [pair.publish("a", "linked").output_id for _ in range(5)]
    first = queries.feed_page(OPERATOR, FeedQuery(network_id="b", page_size=2), pair.uow, pair.lookup)
    assert [i.output["output_id"] for i in first.items] == ids[:2] and first.next_page_token
    assert [i.output["output_id"] for i in pair.feed("b", page_size=2)] == ids
    last = queries.feed_page(OPERATOR, FeedQuery(network_id="b", page_size=5), pair.uow, pair.lookup)
    assert last.next_page_token is None


def test_an_empty_feed_has_no_next_page(pair: World) -> None:
    assert queries.feed_page(OPERATOR, FeedQuery(network_id="b"), pair.uow, pair.lookup).model_dump() == {"items": [],
                                                                                   "next_page_token": None}


def test_a_forged_page_token_is_refused(pair: World) -> None:
    with pytest.raises(ValidationFailed) as raised:
        queries.feed_page(OPERATOR, FeedQuery(network_id="b", page_token="bm9wZQ=="), pair.uow, pair.lookup)
    assert raised.value.violations[0]["field"] == "page_token"


def test_the_log_holds_shares_retractions_and_updates_per_network_with_increasing_cursors(pair: World) -> None:
    shared = pair.publish("a", "linked")
    pair.retract(shared.output_id, "a")
    entries = pair.log()
    assert [(e.network_id, e.kind) for e in entries] == [("b", "retracted"), ("c", "retracted")]
    cursors = [e.cursor for e in entries]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)


def test_next_cursor_moves_past_entries_passed_over_so_nothing_is_read_twice(pair: World) -> None:
    gone = pair.publish("a", "linked")
    kept = pair.publish("a", "linked")
    pair.retract(gone.output_id, "a")
    page = queries.log_after(THE_GATEWAY, LogQuery(cursor=0, network_ids=["b"], limit=1), pair.uow, pair.lookup)
    assert page.entries == [] and page.next_cursor > 0  # the share of a retracted output: passed over
    page = queries.log_after(THE_GATEWAY, LogQuery(cursor=page.next_cursor, network_ids=["b"], limit=1), pair.uow,
                             pair.lookup)
    assert [(e.kind, e.output["output_id"]) for e in page.entries] == [("shared", kept.output_id)]
    page = queries.log_after(THE_GATEWAY, LogQuery(cursor=page.next_cursor, network_ids=["b"], limit=1), pair.uow,
                             pair.lookup)
    assert [(e.kind, e.output["output_id"], e.output["retracted"]) for e in page.entries] == [
        ("retracted", gone.output_id, True)]
    end = queries.log_after(THE_GATEWAY, LogQuery(cursor=page.next_cursor, network_ids=["b"], limit=1), pair.uow,
                            pair.lookup)
    assert (end.entries, end.next_cursor) == ([], page.next_cursor)


def test_the_log_is_filtered_to_the_networks_asked_for_and_none_means_all(pair: World) -> None:
    pair.publish("a", "linked")
    assert {e.network_id for e in pair.log(["c"])} == {"c"}
    assert {e.network_id for e in pair.log()} == {"b", "c"}
    assert pair.log([]) == []


def test_a_reader_resuming_from_its_cursor_gets_exactly_what_came_after(pair: World) -> None:
    pair.publish("a", "linked")
    seen = pair.log(["b"])
    later = pair.publish("a", "linked")
    resumed = pair.log(["b"], cursor=seen[-1].cursor)
    assert [(e.kind, e.output["output_id"]) for e in resumed] == [("shared", later.output_id)]


def test_the_delivery_record_says_who_received_what_when_and_whether_it_is_tombstoned(pair: World) -> None:
    shared = pair.publish("a", "linked")
    record = queries.delivery_log(OPERATOR, shared.output_id, pair.uow).items
    assert [(d.network_id, d.backfill, d.tombstoned_at) for d in record] == [("b", False, None), ("c", False, None)]
    pair.retract(shared.output_id, "a")
    assert all(d.tombstoned_at for d in queries.delivery_log(OPERATOR, shared.output_id, pair.uow).items)
    with pytest.raises(NotFound):
        queries.delivery_log(OPERATOR, "unknown", pair.uow)


def test_the_origin_of_an_output_is_known_even_for_a_tombstone_that_came_first(pair: World) -> None:
    shared = pair.publish("a", "linked")
    pair.retract("early", "c")
    assert queries.delivery_log(OPERATOR, shared.output_id, pair.uow).origin_network_id == "a"
    assert queries.delivery_log(OPERATOR, "early", pair.uow).origin_network_id == "c"


def test_the_delivery_log_is_for_the_coordinators_of_the_outputs_network(pair: World) -> None:
    shared = pair.publish("a", "linked")
    assert queries.delivery_log(member("ann", administers={"a"}), shared.output_id, pair.uow).items
    with pytest.raises(PermissionDenied):
        queries.delivery_log(member("bob", administers={"b"}), shared.output_id, pair.uow)


def test_health_answers_with_the_database(pair: World) -> None:
    assert queries.health(pair.uow).model_dump() == {"service": "federation", "database": "ok"}


def test_a_reader_of_a_feed_holding_the_output_gets_its_copy_and_nobody_else_does(pair: World) -> None:
    """The copy as the feed shows it (never a member id), then its tombstone; not for readers of other feeds."""
    shared = pair.publish("a", "linked")
    in_b = member("m-b", member_of=["b"])
    held = queries.held_copy(in_b, shared.output_id, pair.uow).output
    assert held is not None and held == pair.feed("b")[0].output
    assert (held["output_id"], held["origin_network_id"], held["visibility"]) == (shared.output_id, "a", "linked")
    for stranger in (member("m-x", member_of=["x"]), member("m-b", administers=["elsewhere"])):
        assert queries.held_copy(stranger, shared.output_id, pair.uow).output is None
    assert queries.held_copy(in_b, "no-such-output", pair.uow).output is None
    pair.retract(shared.output_id, "a")
    gone = queries.held_copy(in_b, shared.output_id, pair.uow).output
    assert gone is not None and gone["retracted"] is True and "title" not in gone


def test_a_log_page_with_outputs_once_carries_each_output_once_and_says_what_the_full_page_says(pair: World) -> None:
    """The gateway's hub reads every network's log: an output shared with N networks is N entries, and with
    ``outputs_once`` its copy (or tombstone) travels once per page; put back together, the page is the full one."""
    kept = pair.publish("a", "linked")
    gone = pair.publish("a", "linked")
    pair.retract(gone.output_id, "a")
    full = queries.log_after(THE_GATEWAY, LogQuery(cursor=0), pair.uow, pair.lookup)
    once = queries.log_after(THE_GATEWAY, LogQuery(cursor=0, outputs_once=True), pair.uow, pair.lookup)
    assert sorted(once.outputs) == sorted({kept.output_id, gone.output_id})
    assert once.outputs[gone.output_id]["retracted"] is True
    assert once.next_cursor == full.next_cursor
    rebuilt = [{**e.model_dump(exclude={"output_id"}), "output": once.outputs[e.output_id]} for e in once.entries]
    assert rebuilt == [e.model_dump() for e in full.entries]
    assert len(full.entries) > len(once.outputs)  # an output in two networks' logs (b and c), sent once
