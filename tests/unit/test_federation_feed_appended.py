"""What ``feed.appended`` says of a transaction that grew the feed log: its networks and, while they are few
enough to carry, the entries themselves, exactly as the log reader reads them (decision 0016)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from services.federation import models, unit_of_work
from services.federation.handlers import queries
from services.federation.schemas import LogQuery
from tests.support.callers import THE_GATEWAY
from tests.unit.test_federation_world import World, open_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


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
