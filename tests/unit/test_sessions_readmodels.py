"""The read models of networks, people and memberships follow events by revision: redelivered and older
events change nothing, a leave outranks an older join that arrives later, erasure is final."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from services.common.catalogue import (
    MemberErased,
    MemberRegistered,
    MembershipJoined,
    MembershipLeft,
    MemberUpdated,
    NetworkArchived,
    NetworkCreated,
    NetworkUpdated,
)
from services.common.vocabulary import MembershipRole, NetworkStatus, Perspective
from services.sessions import handlers
from services.sessions.domain.read_models import MemberFacts, MembershipRecord, Person, facts_updates
from services.sessions.ports import facts_from_member, network_from_answer
from tests.support.consumers import consume
from tests.unit.test_sessions_fakes import FakeSessionsUnitOfWork
from tests.unit.test_sessions_world import envelope_of


def network_event(cls: type = NetworkCreated, revision: int = 1, **overrides: Any) -> Any:
    fields = {"network_id": "net-1", "revision": revision, "name": f"Rev {revision}", "level": "regional",
              "kind": "werkplaats", "theme": "Eenzaamheid", "urgency": None, "host_organisation": None,
              "parent_id": None, "region": "Noord", "cadence_weeks": 6, "start_date": date(2025, 1, 1),
              "requires_preparation": False, "unprepared_policy": "refuse", "status": "active"} | overrides
    return cls(**fields)


def member_event(cls: type = MemberRegistered, revision: int = 1, name: str = "Anna", **overrides: Any) -> Any:
    fields = {"member_id": "m-1", "revision": revision, "name": name, "email": "anna@example.org",
              "organisation": None, "perspectives": ["resident"], "expertise": [], "findable_by_expertise": False,
              "named_in_shared_outputs": False} | overrides
    return cls(**fields)


def joined(revision: int, role: str = "participant") -> MembershipJoined:
    return MembershipJoined(member_id="m-1", network_id="net-1", role=role, perspectives=["resident"],
                            revision=revision)


def left(revision: int) -> MembershipLeft:
    return MembershipLeft(member_id="m-1", network_id="net-1", revision=revision)


def apply(uow: FakeSessionsUnitOfWork, *payloads: Any) -> None:
    for payload in payloads:
        deliver(uow, envelope_of(payload), payload)


def deliver(uow: FakeSessionsUnitOfWork, envelope: Any, payload: Any) -> None:
    kind = payload.event_type
    if kind.startswith("network."):
        consume(handlers.network_changed, envelope, payload, uow, f"sessions.on_{kind.replace('.', '_')}")
    elif kind in ("member.registered", "member.updated"):
        consume(handlers.member_changed, envelope, payload, uow, f"sessions.on_{kind.replace('.', '_')}")
    elif kind == "member.erased":
        consume(handlers.member_erased, envelope, payload, uow, "sessions.on_member_erased")
    elif kind == "membership.joined":
        consume(handlers.membership_joined, envelope, payload, uow, "sessions.on_membership_joined")
    else:
        consume(handlers.membership_left, envelope, payload, uow, "sessions.on_membership_left")


def test_a_network_snapshot_is_kept_only_if_newer_than_the_one_held() -> None:
    uow = FakeSessionsUnitOfWork()
    apply(uow, network_event(revision=1), network_event(NetworkUpdated, revision=3, requires_preparation=True),
          network_event(NetworkUpdated, revision=2))
    network = uow.read_models.network("net-1")
    assert (network.revision, network.name, network.requires_preparation) == (3, "Rev 3", True)


def test_an_archived_network_is_remembered_as_archived() -> None:
    uow = FakeSessionsUnitOfWork()
    apply(uow, network_event(revision=1), network_event(NetworkArchived, revision=2, status="archived"))
    assert uow.read_models.network("net-1").status == NetworkStatus.ARCHIVED


def test_a_redelivered_event_is_processed_once() -> None:
    uow = FakeSessionsUnitOfWork()
    payload, event_id = network_event(revision=1), uuid.uuid4()
    deliver(uow, envelope_of(payload, event_id), payload)
    uow.read_models.networks.clear()  # had it been applied again, the network would come back
    deliver(uow, envelope_of(payload, event_id), payload)
    assert uow.read_models.network("net-1") is None
    assert uow.committed == 1


def test_an_older_member_update_arriving_late_changes_nothing() -> None:
    uow = FakeSessionsUnitOfWork()
    apply(uow, member_event(MemberUpdated, revision=3, name="Anna Jansen", named_in_shared_outputs=True),
          member_event(MemberRegistered, revision=1, name="Anna"))
    person = uow.read_models.person("m-1")
    assert (person.name, person.revision, person.named_in_shared_outputs) == ("Anna Jansen", 3, True)


def test_a_leave_is_kept_as_a_tombstone_that_an_older_join_arriving_later_cannot_undo() -> None:
    uow = FakeSessionsUnitOfWork()
    apply(uow, left(4), joined(3))
    record = uow.read_models.membership("net-1", "m-1")
    assert (record.active, record.revision) == (False, 4)


def test_a_newer_join_after_a_leave_makes_the_membership_active_again_with_its_role() -> None:
    uow = FakeSessionsUnitOfWork()
    apply(uow, joined(2), left(3), joined(5, role="facilitator"))
    record = uow.read_models.membership("net-1", "m-1")
    assert (record.active, record.role, record.revision) == (True, MembershipRole.FACILITATOR, 5)


def test_erasure_ends_memberships_and_is_final() -> None:
    uow = FakeSessionsUnitOfWork()
    apply(uow, member_event(revision=1), joined(2), MemberErased(member_id="m-1", revision=5),
          member_event(MemberUpdated, revision=4, name="Anna late"), joined(3))
    assert uow.read_models.person("m-1") == Person("m-1", 5, "", (), False, erased=True)
    assert uow.read_models.membership("net-1", "m-1").active is False


def test_an_rpc_answer_is_folded_in_as_if_its_events_had_arrived() -> None:
    current = [MembershipRecord("net-1", "m-1", MembershipRole.PARTICIPANT, 2, True),
               MembershipRecord("net-2", "m-1", MembershipRole.PARTICIPANT, 2, True)]
    facts = MemberFacts("m-1", 4, "Anna", (Perspective.RESIDENT,), False,
                        {"net-1": MembershipRole.FACILITATOR, "net-3": MembershipRole.PARTICIPANT})
    person, changed = facts_updates(None, current, facts)
    assert person == facts.person()
    assert {(m.network_id, m.active, m.role) for m in changed} == {
        ("net-1", True, MembershipRole.FACILITATOR), ("net-3", True, MembershipRole.PARTICIPANT),
        ("net-2", False, MembershipRole.PARTICIPANT),
    }


def test_an_rpc_answer_older_than_the_read_model_changes_nothing() -> None:
    newer = Person("m-1", 9, "Anna", (), False)
    current = [MembershipRecord("net-1", "m-1", None, 9, False)]
    person, changed = facts_updates(newer, current, MemberFacts("m-1", 4, "Old", (), False,
                                                                {"net-1": MembershipRole.PARTICIPANT}))
    assert (person, changed) == (None, [])


def test_the_members_and_networks_answers_are_read_from_their_json() -> None:
    facts = facts_from_member({"id": "m-1", "revision": 7, "name": "Anna", "perspectives": ["client"],
                               "named_in_shared_outputs": True, "email": "a@example.org",
                               "memberships": [{"network_id": "net-1", "role": "coordinator",
                                                "joined_at": "2026-01-01T00:00:00Z"}]})
    assert facts == MemberFacts("m-1", 7, "Anna", (Perspective.CLIENT,), True,
                                {"net-1": MembershipRole.COORDINATOR})
    network = network_from_answer({"id": "net-1", "revision": 2, "name": "N", "status": "archived",
                                   "requires_preparation": True, "unprepared_policy": "flag", "member_count": 3})
    assert (network.active, network.preparation_rule().required) == (False, True)
