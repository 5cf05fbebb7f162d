"""The networks service on real RabbitMQ and PostgreSQL: the hierarchy rules over RPC, and read models that
follow the members and sessions services' events, whatever their order and however often they arrive."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from services.common.catalogue import MembershipJoined, MembershipLeft, OutputPublished, OutputRetracted, SessionHeld
from services.common.errors import ValidationFailed
from services.common.events import new_envelope
from services.common.migrations import upgrade
from services.common.outbox import ConfirmingPublisher, OutgoingMessage
from services.members.service import MembersService
from services.networks.models import processed_events
from services.networks.service import NetworksService
from tests.integration.helpers import all_processed
from tests.support.callers import OPERATOR_WIRE
from tests.support.waiting import eventually


@pytest.fixture
def config(members_config):
    upgrade("networks", members_config["DATABASE_URL"])
    return members_config


def publish(amqp_uri: str, producer: str, *payloads) -> list[str]:
    """Publish ``payloads`` in this order; return their event ids."""
    envelopes = [new_envelope(p, producer=producer) for p in payloads]
    publisher = ConfirmingPublisher(amqp_uri)
    try:
        publisher.publish(OutgoingMessage(f"{producer}.events", e.type, e.to_wire(), {}) for e in envelopes)
    finally:
        publisher.close()
    return [str(e.id) for e in envelopes]


def create(rpc, name: str, level: str, parent_id: str | None = None) -> dict:
    return rpc.networks.create_network(OPERATOR_WIRE, {"name": name, "level": level, "kind": "community_of_practice",
                                                       "theme": f"{name} theme", "parent_id": parent_id})


def test_a_child_network_must_sit_below_its_parent(config, container_factory):
    container_factory(NetworksService, config).start()
    with ClusterRpcProxy(config, timeout=10) as rpc:
        national = create(rpc, "BeterOud", "national")
        regional = create(rpc, "Werkplaats Utrecht", "regional", national["id"])
        with pytest.raises(ValidationFailed) as refused:
            create(rpc, "Another national", "national", regional["id"])
        assert refused.value.violations[0]["rule"] == "level_below_parent"
        with pytest.raises(ValidationFailed) as cycle:
            rpc.networks.update_network(OPERATOR_WIRE, national["id"], {"parent_id": regional["id"]})
        assert cycle.value.violations[0]["rule"] in {"no_cycle", "level_below_parent"}
        tree = rpc.networks.network_tree(national["id"])
        assert [child["name"] for child in tree["children"]] == ["Werkplaats Utrecht"]


def test_facilitators_follow_membership_events_from_the_members_service(config, container_factory):
    container_factory(NetworksService, config).start()
    container_factory(MembersService, config).start()
    with ClusterRpcProxy(config, timeout=10) as rpc:
        network = create(rpc, "Buurtteam Overvecht", "neighbourhood")
        people = [
            rpc.members.register_member(OPERATOR_WIRE, {"name": n, "email": f"{n.lower()}@example.org",
                                                        "perspectives": [p]})
            for n, p in (("Fatima", "practitioner"), ("Joost", "lived_experience"), ("Lotte", "resident"))
        ]
        for person, role in zip(people, ("facilitator", "facilitator", "participant"), strict=True):
            rpc.members.join_network(OPERATOR_WIRE, person["id"], network["id"], {"role": role})
        rpc.members.leave_network(OPERATOR_WIRE, people[2]["id"], network["id"])

        def facilitators_known():
            view = rpc.networks.get_network(network["id"])
            return len(view["facilitators"]) == 2 and view["member_count"] == 2 and view

        view = eventually(facilitators_known, what="the membership read model")
        assert sorted(p["perspectives"][0] for p in view["facilitators"]) == ["lived_experience", "practitioner"]
        step5 = rpc.networks.health_report(OPERATOR_WIRE, network["id"], {"language": "en"})["steps"][4]
        assert (step5["status"], step5["evidence"]) == ("shown", "2 facilitators: lived experience and practitioner")


def test_reordered_and_redelivered_membership_events_change_nothing(config, container_factory):
    container_factory(NetworksService, config).start()
    with ClusterRpcProxy(config, timeout=10) as rpc:
        network = create(rpc, "Leerkring Armoede", "local")
    member_id, other_id = str(uuid.uuid4()), str(uuid.uuid4())
    joined = MembershipJoined(member_id=member_id, network_id=network["id"], role="participant",
                              perspectives=["volunteer"], revision=2)
    left = MembershipLeft(member_id=member_id, network_id=network["id"], revision=3)
    sentinel = MembershipJoined(member_id=other_id, network_id=network["id"], role="coordinator",
                                perspectives=["research"], revision=1)
    # The leave arrives first, the older join after it, twice; then a sentinel to know all were handled.
    publish(config["AMQP_URI"], "members", left)
    publish(config["AMQP_URI"], "members", joined, joined)
    publish(config["AMQP_URI"], "members", sentinel)
    with ClusterRpcProxy(config, timeout=10) as rpc:
        view = eventually(lambda: (v := rpc.networks.get_network(network["id"], OPERATOR_WIRE))["coordinators"] and v,
                          what="the sentinel membership")
    assert view["member_count"] == 1
    assert [p["member_id"] for p in view["coordinators"]] == [other_id]


def test_a_retraction_that_arrives_before_its_output_keeps_it_out_of_the_report(config, container_factory):
    container_factory(NetworksService, config).start()
    with ClusterRpcProxy(config, timeout=10) as rpc:
        network = create(rpc, "Kenniskring Mantelzorg", "regional")
    now = datetime.now(UTC)
    shared = dict(session_id=str(uuid.uuid4()), network_id=network["id"], kind="lesson", title="t", body="b",
                  url=None, resource_type=None, themes=[], visibility="federation", licence="CC-BY-4.0",
                  authors=[], published_at=now)
    early, late = str(uuid.uuid4()), str(uuid.uuid4())
    event_ids = publish(
        config["AMQP_URI"], "sessions",
        OutputRetracted(output_id=early, network_id=network["id"], retracted_at=now, reason=None),
        OutputPublished(output_id=early, **shared), OutputPublished(output_id=late, **shared),
        SessionHeld(session_id=str(uuid.uuid4()), network_id=network["id"], revision=2, title="s",
                    format="world_cafe", mode="online", location=None, starts_at=now - timedelta(days=1),
                    ends_at=now - timedelta(hours=22), capacity=None, status="held", contributor_ids=[]))
    with ClusterRpcProxy(config, timeout=10) as rpc:
        def counted():
            steps = rpc.networks.health_report(OPERATOR_WIRE, network["id"], {"language": "en"})["steps"]
            return steps[7]["evidence"].startswith("1 session ") and steps
        eventually(lambda: all_processed(config["DATABASE_URL"], "networks", processed_events, event_ids),
                   what="all four events applied")
        steps = eventually(counted, what="the session read model")
    assert steps[8]["evidence"] == "1 output shared beyond the network, 1 published in all"
