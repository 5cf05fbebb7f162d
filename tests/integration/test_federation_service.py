"""The federation service on real RabbitMQ and PostgreSQL, fed by the real networks and sessions services:
the hierarchy's links appear by themselves, outputs reach exactly their audience, retraction removes every
copy, and a redelivered or reordered event changes nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.common.catalogue import OutputPublished, OutputRetracted
from services.federation.models import processed_events
from tests.integration.helpers import all_processed
from tests.integration.test_networks_read_models import publish
from tests.support.callers import OPERATOR_WIRE
from tests.support.waiting import eventually


def network(rpc, name: str, level: str, parent: dict | None = None) -> dict:
    return rpc.networks.create_network(OPERATOR_WIRE, {"name": name, "level": level, "kind": "werkplaats",
                                                       "theme": f"{name} theme",
                                                       "parent_id": parent["id"] if parent else None})


def feed_ids(rpc, network: dict) -> list[str]:
    return [item["output"]["output_id"] for item in rpc.federation.feed(OPERATOR_WIRE,
                                                                        {"network_id": network["id"]})["items"]
            if not item["output"].get("retracted")]


def hierarchy_linked(rpc, *networks_: dict) -> bool:
    return all(rpc.federation.list_links(OPERATOR_WIRE, n["id"], "active") for n in networks_)


def publish_output(rpc, origin: dict, visibility: str, author_name: str = "Fatima", consent: bool = False) -> dict:
    member = rpc.members.register_member(OPERATOR_WIRE, {"name": author_name,
                                                         "email": f"{uuid.uuid4().hex[:8]}@example.org",
                                                         "perspectives": ["lived_experience"],
                                                         "named_in_shared_outputs": consent})
    rpc.members.join_network(OPERATOR_WIRE, member["id"], origin["id"], {"role": "facilitator"})
    now = datetime.now(UTC)
    session = rpc.sessions.schedule_session(OPERATOR_WIRE, {
        "network_id": origin["id"], "title": "Leersessie", "format": "learning_session", "mode": "in_person",
        "location": "Buurthuis", "starts_at": (now - timedelta(hours=3)).isoformat(),
        "ends_at": (now - timedelta(hours=1)).isoformat()})
    rpc.sessions.hold_session(OPERATOR_WIRE, session["id"])
    return rpc.sessions.publish_output(OPERATOR_WIRE, session["id"], {"kind": "lesson", "title": "Wat we leerden",
                                                                      "body": "...",
                                                                      "authors": [member["id"]],
                                                                      "visibility": visibility})


def test_outputs_reach_exactly_their_audience_through_the_hierarchy_links(all_services):
    rpc = all_services
    national = network(rpc, "BeterOud", "national")
    utrecht = network(rpc, "Werkplaats Utrecht", "regional", national)
    twente = network(rpc, "Werkplaats Twente", "regional", national)
    overvecht = network(rpc, "Overvecht", "neighbourhood", utrecht)
    eventually(lambda: hierarchy_linked(rpc, utrecht, twente, overvecht), what="parent/child links")

    linked = publish_output(rpc, overvecht, "linked")
    federation = publish_output(rpc, overvecht, "federation", author_name="Joost")
    private = publish_output(rpc, overvecht, "network")
    eventually(lambda: federation["id"] in feed_ids(rpc, twente), what="the federation output in Twente")

    assert feed_ids(rpc, utrecht) == [linked["id"], federation["id"]]
    assert feed_ids(rpc, national) == [federation["id"]]
    assert feed_ids(rpc, twente) == [federation["id"]]
    assert private["id"] not in feed_ids(rpc, utrecht) + feed_ids(rpc, national) + feed_ids(rpc, twente)
    shared_copy = rpc.federation.feed(OPERATOR_WIRE, {"network_id": twente["id"]})["items"][0]["output"]
    assert shared_copy["authors"] == [{"shown_as": "a participant with lived experience", "named": False,
                                       "role": "lived_experience"}]
    assert "member_id" not in str(shared_copy)


def test_a_retraction_replaces_every_copy_with_a_tombstone(all_services):
    rpc = all_services
    parent = network(rpc, "Regio", "regional")
    child = network(rpc, "Wijk", "neighbourhood", parent)
    eventually(lambda: hierarchy_linked(rpc, child), what="the parent/child link")
    output = publish_output(rpc, child, "federation")
    eventually(lambda: feed_ids(rpc, parent) == [output["id"]], what="the shared output")
    rpc.sessions.retract_output(OPERATOR_WIRE, output["id"], {"reason": "wrong data"})
    eventually(lambda: feed_ids(rpc, parent) == [], what="the tombstone")
    item = rpc.federation.feed(OPERATOR_WIRE, {"network_id": parent["id"]})["items"][0]
    assert item["output"]["retracted"] is True and "title" not in item["output"]
    assert [d["tombstoned_at"] is not None for d in rpc.federation.delivery_log(OPERATOR_WIRE,
                                                                                output["id"])["items"]] == [True]


def test_redelivered_and_reordered_share_events_change_nothing(all_services, all_services_config):
    rpc = all_services
    parent = network(rpc, "Landelijk", "national")
    child = network(rpc, "Regionaal", "regional", parent)
    eventually(lambda: hierarchy_linked(rpc, child), what="the parent/child link")
    now = datetime.now(UTC)
    fields = dict(session_id=str(uuid.uuid4()), network_id=child["id"], kind="conclusion", title="t", body="b",
                  url=None, resource_type=None, themes=[], visibility="federation", licence="CC-BY-4.0", authors=[],
                  published_at=now)
    twice, early_retracted, sentinel = (str(uuid.uuid4()) for _ in range(3))
    event_ids = publish(
        all_services_config["AMQP_URI"], "sessions", OutputPublished(output_id=twice, **fields),
        OutputPublished(output_id=twice, **fields),
        OutputRetracted(output_id=early_retracted, network_id=child["id"], retracted_at=now, reason=None),
        OutputPublished(output_id=early_retracted, **fields), OutputPublished(output_id=sentinel, **fields))
    eventually(lambda: all_processed(all_services_config["DATABASE_URL"], "federation", processed_events, event_ids),
               what="all five events applied")
    assert sorted(feed_ids(rpc, parent)) == sorted([twice, sentinel])
    assert len(rpc.federation.delivery_log(OPERATOR_WIRE, twice)["items"]) == 1


def test_many_deliveries_in_one_statement_keep_the_given_order_and_skip_networks_that_hold_the_output(pg_url):
    """On PostgreSQL a share writes all its deliveries with one statement (repository.DELIVER_TO_ALL): the log
    positions follow the order given, a network already holding the output is passed over, and every delivery
    record carries its log entry's position."""
    from sqlalchemy import select

    from services.common.db import create_service_engine
    from services.common.migrations import upgrade
    from services.federation.models import deliveries, feed_log
    from services.federation.repository import Feeds

    upgrade("federation", pg_url)
    engine = create_service_engine(pg_url, "federation")
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            feeds = Feeds(conn)
            assert feeds.deliver_many(["c", "a", "b", "a"], "o-1", now) == ["c", "a", "b"]
            assert feeds.deliver_many(["b", "d", "a"], "o-1", now, backfill=True) == ["d"]
            assert feeds.deliver("d", "o-1", now) is False
            assert feeds.deliver_many([], "o-1", now) == []
            feeds.tombstone("o-1", now)
            log = conn.execute(select(feed_log.c.position, feed_log.c.network_id, feed_log.c.kind,
                                      feed_log.c.backfill).order_by(feed_log.c.position)).all()
            held = conn.execute(select(deliveries.c.network_id, deliveries.c.position, deliveries.c.backfill)
                                .order_by(deliveries.c.position)).all()
    finally:
        engine.dispose()
    positions = [row.position for row in log]
    assert [(row.network_id, row.kind, row.backfill) for row in log] == [
        ("c", "shared", False), ("a", "shared", False), ("b", "shared", False), ("d", "shared", True),
        ("c", "retracted", False), ("a", "retracted", False), ("b", "retracted", False), ("d", "retracted", False)]
    assert positions == sorted(positions)
    assert [tuple(row) for row in held] == [(row.network_id, row.position, row.backfill) for row in log[:4]]
