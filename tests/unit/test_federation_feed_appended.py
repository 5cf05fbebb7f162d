"""What ``feed.appended`` says of a transaction that grew the feed log: its networks and, while they are few
enough to carry, the entries themselves, exactly as the log reader reads them (decision 0016)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.common.uow import Delivery, apply_batch
from services.federation import models, unit_of_work
from services.federation.handlers import queries, sharing
from services.federation.schemas import LogQuery
from services.federation.unit_of_work import FederationUnitOfWork
from tests.support.callers import THE_GATEWAY
from tests.unit.test_federation_world import World, open_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


def every_feed_appended(world: World) -> list[dict[str, Any]]:
    with world.engine.connect() as conn:
        envelopes = conn.execute(select(models.outbox.c.envelope).where(models.outbox.c.event_type == "feed.appended")
                                 .order_by(models.outbox.c.position)).scalars()
        return [envelope["payload"] for envelope in envelopes]


def last_feed_appended(world: World) -> dict[str, Any]:
    with world.engine.connect() as conn:
        envelope = conn.execute(select(models.outbox.c.envelope).where(models.outbox.c.event_type == "feed.appended")
                                .order_by(models.outbox.c.position.desc()).limit(1)).scalar_one()
    assert envelope["version"] == 2
    payload: dict[str, Any] = envelope["payload"]
    return payload


def linked_origin(world: World) -> None:
    world.networks("utrecht", "twente", "zwolle")
    world.link("utrecht", "twente")
    world.link("utrecht", "zwolle")


def test_a_share_records_its_entries_on_feed_appended_exactly_as_the_log_reader_reads_them(world: World):
    linked_origin(world)
    shared = world.publish("utrecht", "linked")
    carried = last_feed_appended(world)["entries"]
    assert carried is not None
    assert sorted(e["network_id"] for e in carried["entries"]) == ["twente", "zwolle"]
    assert {e["output_id"] for e in carried["entries"]} == {shared.output_id}
    assert carried["outputs"][shared.output_id]["title"] == shared.title
    read = queries.log_after(THE_GATEWAY, LogQuery(cursor=carried["after"], outputs_once=True,
                                                   limit=carried["next_cursor"] - carried["after"]),
                             world.uow, world.lookup)
    assert read.model_dump(mode="json") == {key: carried[key] for key in ("entries", "outputs", "next_cursor")}


def test_a_transaction_that_appended_more_than_an_event_carries_names_its_networks_alone(
        world: World, monkeypatch: pytest.MonkeyPatch):
    linked_origin(world)
    monkeypatch.setattr(unit_of_work, "CARRIED_ENTRIES", 1)
    world.publish("utrecht", "linked")
    appended = last_feed_appended(world)
    assert appended["network_ids"] == ["twente", "zwolle"] and appended["entries"] is None


def test_a_batch_rolled_back_and_applied_again_one_by_one_carries_only_the_entries_that_committed(world: World):
    linked_origin(world)
    first, second, third = (world.output("utrecht", "linked") for _ in range(3))

    def second_fails_after_appending(uow: FederationUnitOfWork) -> None:
        sharing.on_output_published(second, uow)
        raise RuntimeError("the second event's effect fails once its entries are in the log")

    def shares(event: Any) -> Any:
        return lambda uow: sharing.on_output_published(event, uow)

    already = len(every_feed_appended(world))
    outcomes = apply_batch(lambda: world.uow, [Delivery(uuid.uuid4(), shares(first)),
                                               Delivery(uuid.uuid4(), second_fails_after_appending),
                                               Delivery(uuid.uuid4(), shares(third))], "federation.on_output_published")
    assert [type(outcome).__name__ for outcome in outcomes] == ["NoneType", "RuntimeError", "NoneType"]
    events = every_feed_appended(world)[already:]
    assert [{e["output_id"] for e in event["entries"]["entries"]} for event in events] == [
        {first.output_id}, {third.output_id}]
    # Every entry the log holds is carried once, none it does not hold: whatever positions the rolled-back batch drew
    # (on PostgreSQL a gap, so a gateway meeting the second event reads the log instead of handing it over).
    carried = [entry["cursor"] for event in events for entry in event["entries"]["entries"]]
    logged = queries.log_after(THE_GATEWAY, LogQuery(cursor=events[0]["entries"]["after"], outputs_once=True),
                               world.uow, world.lookup)
    assert carried == [entry.cursor for entry in logged.entries]
    for event in events:
        entries = event["entries"]
        read = queries.log_after(THE_GATEWAY, LogQuery(cursor=entries["after"], outputs_once=True,
                                                       limit=entries["next_cursor"] - entries["after"]),
                                 world.uow, world.lookup)
        assert read.model_dump(mode="json") == {key: entries[key] for key in ("entries", "outputs", "next_cursor")}
