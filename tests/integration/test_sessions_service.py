"""The sessions service on real RabbitMQ and PostgreSQL, beside the real members and networks services: its
read models follow their events (redelivered and out-of-order ones change nothing), a member who joined a
moment ago can register at once, output.published carries consent-aware attribution, and erasure keeps counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import kombu
import pytest
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import select

from services.common.caller import Caller
from services.common.catalogue import NetworkUpdated
from services.common.db import create_service_engine
from services.common.errors import IllegalTransition
from services.common.events import new_envelope
from services.common.migrations import upgrade
from services.common.outbox import ConfirmingPublisher, OutgoingMessage
from services.members import models as member_models
from services.members.service import MembersService
from services.networks.service import NetworksService
from services.sessions import models
from services.sessions.service import SessionsService
from tests.support.callers import OPERATOR_WIRE, reader
from tests.support.waiting import eventually

PAST = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)


@pytest.fixture
def sessions_config(members_config: dict[str, Any]) -> dict[str, Any]:
    """One vhost and one PostgreSQL database; members, networks and sessions each in their own schema.
    One worker per container, so each queue is handled in order and a sentinel proves what came before it."""
    for service in ("networks", "sessions"):
        upgrade(service, members_config["DATABASE_URL"])
    return {**members_config, "max_workers": 1}


@pytest.fixture
def rpc(sessions_config, container_factory):
    for service in (NetworksService, MembersService, SessionsService):
        container_factory(service, sessions_config).start()
    with ClusterRpcProxy(sessions_config, timeout=20) as proxy:
        yield proxy


def rows(config: dict[str, Any], table: Any, *where: Any) -> list[Any]:
    schema = "members" if table.metadata is member_models.metadata else "sessions"
    engine = create_service_engine(config["DATABASE_URL"], schema)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(table).where(*where)))
    finally:
        engine.dispose()


def membership_row(config: dict[str, Any], network_id: str, member_id: str) -> Any:
    found = rows(config, models.known_memberships, models.known_memberships.c.network_id == network_id,
                 models.known_memberships.c.member_id == member_id)
    return found[0] if found else None


def publish(config: dict[str, Any], exchange: str, *bodies: dict[str, Any]) -> None:
    publisher = ConfirmingPublisher(config["AMQP_URI"])
    try:
        publisher.publish(OutgoingMessage(exchange, body["type"], body, {}) for body in bodies)
    finally:
        publisher.close()


def envelope_in_members_outbox(config: dict[str, Any], event_type: str, member_id: str) -> dict[str, Any]:
    outbox = member_models.outbox
    [row] = rows(config, outbox, outbox.c.event_type == event_type, outbox.c.subject == member_id)
    return row.envelope


def new_network(rpc, **overrides: Any) -> dict[str, Any]:
    return rpc.networks.create_network(OPERATOR_WIRE, {"name": "Werkplaats Noord", "level": "regional",
                                                       "kind": "werkplaats",
                                                       "theme": "Eenzaamheid onder ouderen"} | overrides)


def new_member(rpc, name: str, perspective: str, *, named: bool = False) -> dict[str, Any]:
    return rpc.members.register_member(OPERATOR_WIRE, {"name": name,
                                                       "email": f"{name.lower()}-{uuid.uuid4().hex[:6]}@example.org",
                                                       "perspectives": [perspective], "named_in_shared_outputs": named})


def held_session(rpc, network_id: str, **overrides: Any) -> dict[str, Any]:
    session = rpc.sessions.schedule_session(OPERATOR_WIRE, {
        "network_id": network_id, "title": "Kenniscafé", "format": "knowledge_cafe", "mode": "online",
        "meeting_url": "https://meet.example.org/kring", "starts_at": PAST.isoformat(),
        "ends_at": (PAST + timedelta(hours=2)).isoformat(),
    } | overrides)
    return rpc.sessions.hold_session(OPERATOR_WIRE, session["id"])


def test_the_read_models_follow_the_real_services_and_ignore_redelivered_and_older_events(sessions_config, rpc):
    network = new_network(rpc)
    eventually(lambda: rows(sessions_config, models.known_networks), what="network.created in the read model")
    anna = new_member(rpc, "Anna", "resident")
    rpc.members.join_network(OPERATOR_WIRE, anna["id"], network["id"], {"role": "participant"})
    eventually(lambda: (m := membership_row(sessions_config, network["id"], anna["id"])) and m.active,
               what="membership.joined in the read model")
    rpc.members.leave_network(OPERATOR_WIRE, anna["id"], network["id"])
    left = eventually(lambda: (m := membership_row(sessions_config, network["id"], anna["id"])) and not m.active
                      and m, what="membership.left in the read model")

    # The join again, as a redelivery (same id) and as an older event arriving late (new id), then a sentinel.
    joined = envelope_in_members_outbox(sessions_config, "membership.joined", anna["id"])
    sentinel = new_member(rpc, "Sentinel", "research")
    rpc.members.join_network(OPERATOR_WIRE, sentinel["id"], network["id"], {"role": "participant"})
    publish(sessions_config, "members.events", joined, {**joined, "id": str(uuid.uuid4())})
    sentinel_join = envelope_in_members_outbox(sessions_config, "membership.joined", sentinel["id"])
    publish(sessions_config, "members.events", {**sentinel_join, "id": str(uuid.uuid4())})
    processed = models.processed_events
    eventually(lambda: len(rows(sessions_config, processed,
                                processed.c.consumer == "sessions.on_membership_joined")) >= 4,
               what="the late join and the sentinel to be handled")
    assert membership_row(sessions_config, network["id"], anna["id"]) == left  # still a tombstone

    # An older network snapshot arriving after a newer one changes nothing either.
    rpc.networks.update_network(OPERATOR_WIRE, network["id"], {"requires_preparation": True,
                                                               "unprepared_policy": "flag"})
    eventually(lambda: rows(sessions_config, models.known_networks)[0].revision == 2, what="network.updated")
    current = rpc.networks.get_network(network["id"]) | {"network_id": network["id"]}
    stale = NetworkUpdated(**{field: current[field] for field in NetworkUpdated.model_fields}
                           | {"revision": 1, "requires_preparation": False})
    publish(sessions_config, "networks.events", new_envelope(stale, producer="networks").to_wire())
    eventually(lambda: len(rows(sessions_config, processed,
                                processed.c.consumer == "sessions.on_network_updated")) == 2,
               what="the stale snapshot to be handled")
    [known] = rows(sessions_config, models.known_networks)
    assert (known.revision, known.requires_preparation, known.unprepared_policy) == (2, True, "flag")


def test_a_member_who_joined_a_moment_ago_registers_at_once_through_the_rpc_fallback(sessions_config, rpc):
    network = new_network(rpc)
    eventually(lambda: rows(sessions_config, models.known_networks), what="network.created in the read model")
    session = rpc.sessions.schedule_session(OPERATOR_WIRE, {
        "network_id": network["id"], "title": "Intervisie", "format": "intervision", "mode": "in_person",
        "location": "Buurthuis", "starts_at": (PAST + timedelta(days=30)).isoformat(),
        "ends_at": (PAST + timedelta(days=30, hours=2)).isoformat(), "capacity": 1,
    })
    # Hold back the membership events from this service, so only the fallback can know about the join.
    queue = "evt-members-membership.joined--sessions.on_membership_joined"
    with kombu.Connection(sessions_config["AMQP_URI"]) as conn:
        conn.default_channel.queue_unbind(queue=queue, exchange="members.events", routing_key="membership.joined")
    anna, bram = new_member(rpc, "Anna", "volunteer"), new_member(rpc, "Bram", "client")
    for member in (anna, bram):
        rpc.members.join_network(OPERATOR_WIRE, member["id"], network["id"], {"role": "participant"})
    assert rpc.sessions.register_for_session(OPERATOR_WIRE, session["id"], anna["id"], {})["status"] == "registered"
    assert rpc.sessions.register_for_session(OPERATOR_WIRE, session["id"], bram["id"])["status"] == "waitlisted"
    assert membership_row(sessions_config, network["id"], anna["id"]).active  # what the fallback learned
    processed = models.processed_events
    assert rows(sessions_config, processed, processed.c.consumer == "sessions.on_membership_joined") == []


def test_output_published_carries_consent_aware_attribution(sessions_config, rpc):
    network = new_network(rpc)
    fatima = new_member(rpc, "Fatima", "lived_experience", named=False)
    jan = new_member(rpc, "Jan", "practitioner", named=True)
    for member in (fatima, jan):
        rpc.members.join_network(OPERATOR_WIRE, member["id"], network["id"], {"role": "participant"})
    with kombu.Connection(sessions_config["AMQP_URI"]) as conn:
        listener = kombu.Queue(f"test-outputs-{uuid.uuid4().hex[:6]}", routing_key="output.published",
                               exchange=kombu.Exchange("sessions.events", type="topic", durable=True),
                               exclusive=True)(conn.default_channel)
        listener.declare()
        session = eventually(lambda: _try(lambda: held_session(rpc, network["id"])), what="the network to be known")
        with pytest.raises(IllegalTransition) as refused:
            rpc.sessions.register_for_session(OPERATOR_WIRE, session["id"], jan["id"])
        assert refused.value.violations[0]["rule"] == "illegal_transition"
        output = rpc.sessions.publish_output(OPERATOR_WIRE, session["id"], {"kind": "lesson", "title": "Vraag door",
                                                                             "authors": [fatima["id"], jan["id"]],
                                                                             "visibility": "public"})
        message = eventually(lambda: listener.get(no_ack=True), what="output.published on the bus")
    authors = message.payload["payload"]["authors"]
    assert authors == [
        {"member_id": fatima["id"], "shown_as": "a participant with lived experience", "named": False},
        {"member_id": jan["id"], "shown_as": "Jan", "named": True},
    ]
    inside = rpc.sessions.get_output(reader(network["id"]).wire(), output["id"])
    outside = rpc.sessions.get_output(reader().wire(), output["id"])
    assert [a["shown_as"] for a in inside["authors"]] == ["Fatima", "Jan"]
    assert [a["shown_as"] for a in outside["authors"]] == ["a participant with lived experience", "Jan"]
    assert [a["member_id"] for a in outside["authors"]] == [None, None]


def test_erasure_in_the_members_service_pseudonymises_sessions_data_and_keeps_the_counts(sessions_config, rpc):
    network = new_network(rpc)
    fatima = new_member(rpc, "Fatima", "lived_experience")
    rpc.members.join_network(OPERATOR_WIRE, fatima["id"], network["id"], {"role": "participant"})
    session = eventually(lambda: _try(lambda: held_session(rpc, network["id"])), what="the network to be known")
    rpc.sessions.record_attendance(OPERATOR_WIRE, session["id"], {"member_ids": [fatima["id"]]})
    fatima_herself = Caller.member(fatima["id"], member_of={network["id"]}).wire()
    rpc.sessions.record_reflection(fatima_herself, {"session_id": session["id"], "kind": "self_image",
                                                                 "text": "Mijn eigen woorden"})
    before = rpc.sessions.learning_report(OPERATOR_WIRE, network["id"])
    rpc.members.erase_member(OPERATOR_WIRE, fatima["id"])
    eventually(lambda: not rows(sessions_config, models.attendance, models.attendance.c.member_id == fatima["id"]),
               what="erasure to reach the sessions service")
    after = rpc.sessions.learning_report(OPERATOR_WIRE, network["id"])
    assert (after["attendance_total"], after["reflections_by_kind"]) == (1, before["reflections_by_kind"])
    assert rpc.sessions.export_member(OPERATOR_WIRE, fatima["id"])["reflections"] == []
    assert [r.text for r in rows(sessions_config, models.reflections)] == [None]


def _try(call):
    """The call's result, or None while the read model has not caught up (a NotFound)."""
    from services.common.errors import NotFound

    try:
        return call()
    except NotFound:
        return None


def test_a_learning_loop_goes_round_over_rpc_and_its_events_make_step_4_of_the_health_report_measurable(
    sessions_config, rpc,
):
    network = new_network(rpc)
    anna = new_member(rpc, "Anna", "practitioner")
    rpc.members.join_network(OPERATOR_WIRE, anna["id"], network["id"], {"role": "participant"})
    first = eventually(lambda: _try(lambda: held_session(rpc, network["id"])), what="the network to be known")
    later = held_session(rpc, network["id"], starts_at=(PAST + timedelta(days=1)).isoformat(),
                         ends_at=(PAST + timedelta(days=1, hours=2)).isoformat())
    herself = Caller.member(anna["id"], member_of={network["id"]}).wire()
    loop = rpc.sessions.open_learning_question(herself, {"network_id": network["id"], "question": "Hoe dan?",
                                                         "urgency": "Mijn cliënten wachten"})
    rpc.sessions.bring_learning_question(herself, loop["id"], {"session_id": first["id"]})
    rpc.sessions.start_experiment(herself, loop["id"], {"session_id": first["id"], "experiment": "Thuis opzoeken",
                                                        "mandate": "yes"})
    rpc.sessions.follow_up_experiment(herself, loop["id"], {"session_id": later["id"], "what_happened": "Goed"})
    closed = rpc.sessions.close_learning_loop(OPERATOR_WIRE, loop["id"], {"lesson": "Thuis opzoeken werkt"})
    assert (closed["status"], closed["revision"]) == ("closed", 5)
    report = rpc.sessions.learning_report(OPERATOR_WIRE, network["id"])
    assert (report["loops"]["opened"], report["loops"]["closed"], report["loops"]["followed_up"]) == (1, 1, 1)

    def step_4() -> dict[str, Any] | None:
        steps = rpc.networks.health_report(OPERATOR_WIRE, network["id"], {"language": "en"})["steps"]
        return steps[3] if steps[3]["status"] == "shown" else None

    shown = eventually(step_4, what="the loop's events to reach the networks service")
    assert shown["little_data"] is True and "1 experiment" in shown["evidence"]
