"""The networks service's read models on SQLite, migrated by the real Alembic history: they follow the
members and sessions services' events whatever order they arrive in, and a redelivered event changes nothing."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from services.common.catalogue import (
    ExperimentFollowedUp,
    ExperimentStarted,
    LearningLoopSnapshot,
    LearningQuestionOpened,
    MemberErased,
    MembershipJoined,
    MembershipLeft,
    MemberUpdated,
    OutputPublished,
    OutputRetracted,
    ReflectionRecorded,
    SessionCancelled,
    SessionClosed,
    SessionHeld,
    SessionRescheduled,
    SessionScheduled,
    SessionSnapshot,
)
from services.common.events import EventPayload
from services.common.uow import apply_once
from services.common.vocabulary import (
    MembershipRole,
    OutputKind,
    Perspective,
    ReflectionKind,
    SessionFormat,
    SessionMode,
    SessionStatus,
    Visibility,
)
from services.networks.domain.health import MemberFacts, OutputFacts, SessionFacts
from services.networks.read_models import ReadModels
from services.networks.unit_of_work import NetworksUnitOfWork

T0 = datetime(2026, 3, 3, 19, 30, tzinfo=UTC)
NET, OTHER = "utrecht-eenzaamheid", "wijk-overvecht"
P = Perspective


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("networks")


@pytest.fixture
def models(engine: Engine) -> Iterator[ReadModels]:
    with engine.begin() as connection:
        yield ReadModels(connection)


def apply(models: ReadModels, *events: EventPayload) -> None:
    """Deliver events in the given order, the way the service's handlers do."""
    for event in events:
        match event:
            case MembershipJoined():
                models.membership_joined(event)
            case MembershipLeft():
                models.membership_left(event)
            case MemberUpdated():
                models.member_updated(event)
            case MemberErased():
                models.member_erased(event)
            case SessionSnapshot():
                models.session_changed(event)
            case OutputPublished():
                models.output_published(event)
            case OutputRetracted():
                models.output_retracted(event)
            case ReflectionRecorded():
                models.reflection_recorded(event)
            case LearningLoopSnapshot():
                models.loop_changed(event)
            case _:
                raise AssertionError(f"no projection for {event!r}")


# --- events as the members service sends them ----------------------------------------------------------------


def joined(revision: int, member_id: str = "m-1", network_id: str = NET, role: str = "participant",
           perspectives: tuple[Perspective, ...] = (P.RESIDENT,)) -> MembershipJoined:
    return MembershipJoined(member_id=member_id, network_id=network_id, role=MembershipRole(role),
                            perspectives=list(perspectives), revision=revision)


def left(revision: int, member_id: str = "m-1", network_id: str = NET) -> MembershipLeft:
    return MembershipLeft(member_id=member_id, network_id=network_id, revision=revision)


def updated(revision: int, *perspectives: Perspective, member_id: str = "m-1") -> MemberUpdated:
    return MemberUpdated(member_id=member_id, revision=revision, name="Anna de Vries", email="anna@example.org",
                         organisation=None, perspectives=list(perspectives), expertise=[],
                         findable_by_expertise=False, named_in_shared_outputs=False)


def erased(revision: int, member_id: str = "m-1") -> MemberErased:
    return MemberErased(member_id=member_id, revision=revision)


def members(models: ReadModels, network_id: str = NET) -> dict[str, MemberFacts]:
    return {m.member_id: m for m in models.members_of(network_id)}


# --- events as the sessions service sends them ---------------------------------------------------------------

SNAPSHOTS: dict[SessionStatus, type[SessionSnapshot]] = {
    SessionStatus.PLANNED: SessionScheduled, SessionStatus.HELD: SessionHeld, SessionStatus.CLOSED: SessionClosed,
    SessionStatus.CANCELLED: SessionCancelled,
}


def session(revision: int, status: SessionStatus, session_id: str = "s-1", network_id: str = NET,
            starts_at: datetime = T0, contributors: tuple[str, ...] = ()) -> SessionSnapshot:
    fields: dict[str, Any] = {
        "session_id": session_id, "network_id": network_id, "revision": revision, "title": "Kenniscafé eenzaamheid",
        "format": SessionFormat.KNOWLEDGE_CAFE, "mode": SessionMode.IN_PERSON, "location": "Wijkcentrum De Dreef",
        "starts_at": starts_at, "ends_at": starts_at + timedelta(hours=2), "capacity": 30, "status": status,
        "contributor_ids": list(contributors),
    }
    if status == SessionStatus.CANCELLED:
        fields["reason"] = "te weinig aanmeldingen"
    return SNAPSHOTS[status](**fields)


def rescheduled(revision: int, starts_at: datetime, session_id: str = "s-1") -> SessionRescheduled:
    return SessionRescheduled(session_id=session_id, network_id=NET, revision=revision, title="Kenniscafé",
                              format=SessionFormat.KNOWLEDGE_CAFE, mode=SessionMode.ONLINE, location=None,
                              starts_at=starts_at, ends_at=starts_at + timedelta(hours=2), capacity=None,
                              status=SessionStatus.PLANNED, contributor_ids=[], previous_starts_at=T0,
                              previous_ends_at=T0 + timedelta(hours=2))


def published(output_id: str = "o-1", network_id: str = NET, kind: OutputKind = OutputKind.LESSON,
              visibility: Visibility = Visibility.PUBLIC) -> OutputPublished:
    return OutputPublished(output_id=output_id, session_id="s-1", network_id=network_id, kind=kind,
                           title="Wat werkt tegen eenzaamheid", body="...", url=None, resource_type=None,
                           themes=["eenzaamheid"], visibility=visibility, licence="CC-BY-4.0", authors=[],
                           published_at=T0)


def retracted(output_id: str = "o-1", network_id: str = NET) -> OutputRetracted:
    return OutputRetracted(output_id=output_id, network_id=network_id, retracted_at=T0, reason=None)


def reflection(reflection_id: str = "r-1", network_id: str = NET) -> ReflectionRecorded:
    return ReflectionRecorded(reflection_id=reflection_id, network_id=network_id, session_id="s-1",
                              kind=ReflectionKind.PERSPECTIVE, recorded_at=T0)


# --- memberships -----------------------------------------------------------------------------------------------


def test_a_joined_member_is_listed_with_role_and_perspectives(models: ReadModels) -> None:
    apply(models, joined(2, role="facilitator", perspectives=(P.PRACTITIONER, P.RESEARCH)))
    assert models.members_of(NET) == [MemberFacts("m-1", MembershipRole.FACILITATOR, (P.PRACTITIONER, P.RESEARCH))]
    assert models.members_of(OTHER) == []


@pytest.mark.parametrize("order", list(itertools.permutations(["joined@2", "left@3"])), ids=" then ".join)
def test_joined_then_left_leaves_the_member_out_in_either_order(models: ReadModels, order: tuple[str, ...]) -> None:
    events = {"joined@2": joined(2), "left@3": left(3)}
    apply(models, *(events[name] for name in order))
    assert members(models) == {}


@pytest.mark.parametrize("order", list(itertools.permutations(["joined@2", "left@3", "joined@4"])),
                         ids=" then ".join)
def test_rejoining_wins_over_leaving_in_any_order(models: ReadModels, order: tuple[str, ...]) -> None:
    events = {"joined@2": joined(2, role="participant"), "left@3": left(3), "joined@4": joined(4, role="coordinator")}
    apply(models, *(events[name] for name in order))
    assert members(models)["m-1"].role == MembershipRole.COORDINATOR


def test_an_older_join_arriving_late_does_not_change_the_role(models: ReadModels) -> None:
    apply(models, joined(5, role="facilitator"), joined(3, role="participant"))
    assert members(models)["m-1"].role == MembershipRole.FACILITATOR


@pytest.mark.parametrize("events", [[joined(2)], [joined(2), left(3)]], ids=["joined", "left"])
def test_a_redelivered_membership_event_changes_nothing(models: ReadModels, events: list[EventPayload]) -> None:
    apply(models, *events)
    before = members(models)
    apply(models, events[-1])
    assert members(models) == before


def test_memberships_in_different_networks_are_independent(models: ReadModels) -> None:
    apply(models, joined(2, network_id=NET), joined(3, network_id=OTHER), left(4, network_id=NET))
    assert (members(models, NET), list(members(models, OTHER))) == ({}, ["m-1"])


# --- member profile changes --------------------------------------------------------------------------------------


def test_a_newer_profile_update_changes_the_perspectives_in_every_network(models: ReadModels) -> None:
    apply(models, joined(2, network_id=NET), joined(3, network_id=OTHER), updated(4, P.VOLUNTEER, P.LIVED_EXPERIENCE))
    for network_id in (NET, OTHER):
        assert members(models, network_id)["m-1"].perspectives == (P.VOLUNTEER, P.LIVED_EXPERIENCE)


def test_an_older_profile_update_arriving_late_is_ignored(models: ReadModels) -> None:
    apply(models, joined(4, perspectives=(P.RESEARCH,)), updated(3, P.RESIDENT))
    assert members(models)["m-1"].perspectives == (P.RESEARCH,)


def test_a_rejoin_older_than_the_latest_profile_update_keeps_the_newer_perspectives(models: ReadModels) -> None:
    apply(models, joined(2, perspectives=(P.RESIDENT,)), updated(5, P.VOLUNTEER),
          left(3), joined(4, perspectives=(P.RESIDENT,)))  # leave and rejoin happened before the update
    assert members(models)["m-1"].perspectives == (P.VOLUNTEER,)


def test_a_profile_update_that_arrives_before_the_join_it_follows_is_not_lost(models: ReadModels) -> None:
    # The member joined (revision 2) and then changed perspectives (revision 3). The two events travel on
    # different queues, so the update can arrive first; the older join must not bring back the old perspectives.
    apply(models, updated(3, P.RESIDENT, P.VOLUNTEER), joined(2, perspectives=(P.RESIDENT,)))
    assert members(models)["m-1"].perspectives == (P.RESIDENT, P.VOLUNTEER)


# --- erasure ---------------------------------------------------------------------------------------------------


def test_an_erased_member_leaves_every_network_and_their_perspectives_are_dropped(models: ReadModels) -> None:
    apply(models, joined(2, network_id=NET, role="facilitator"), joined(3, network_id=OTHER),
          joined(2, member_id="m-2"), erased(4))
    assert list(members(models, NET)) == ["m-2"]
    assert members(models, OTHER) == {}


@pytest.mark.parametrize("late", [joined(3, network_id=NET), joined(3, network_id=OTHER), updated(3, P.RESEARCH),
                                  left(3)], ids=["join", "join elsewhere", "profile update", "leave"])
def test_an_older_event_arriving_after_erasure_does_not_bring_the_member_back(models: ReadModels,
                                                                              late: EventPayload) -> None:
    apply(models, joined(2), erased(4), late)
    assert members(models, NET) == {} and members(models, OTHER) == {}


def test_erasure_arriving_before_the_join_keeps_the_member_out(models: ReadModels) -> None:
    apply(models, erased(4), joined(2), joined(3, network_id=OTHER))
    assert members(models, NET) == {} and members(models, OTHER) == {}


def test_a_redelivered_erasure_changes_nothing(models: ReadModels) -> None:
    apply(models, joined(2), joined(2, member_id="m-2"), erased(4), erased(4))
    assert list(members(models)) == ["m-2"]


# --- sessions ----------------------------------------------------------------------------------------------------


def test_held_sessions_count_held_and_closed_only(models: ReadModels) -> None:
    week = timedelta(weeks=1)
    apply(models,
          session(1, SessionStatus.PLANNED, "planned"),
          session(2, SessionStatus.HELD, "held", starts_at=T0 + week, contributors=("m-1", "m-2")),
          session(3, SessionStatus.CLOSED, "closed", starts_at=T0 + 2 * week),
          session(2, SessionStatus.CANCELLED, "cancelled"),
          session(2, SessionStatus.HELD, "elsewhere", network_id=OTHER))
    held = sorted(models.held_sessions(NET), key=lambda s: s.starts_at)
    assert held == [SessionFacts(T0 + week, ("m-1", "m-2"), "held"), SessionFacts(T0 + 2 * week, (), "closed")]
    assert held[0].starts_at.tzinfo is not None  # comparable with the aware times the report uses


def test_a_newer_session_snapshot_replaces_the_older(models: ReadModels) -> None:
    later = T0 + timedelta(days=7)
    apply(models, session(1, SessionStatus.PLANNED), rescheduled(2, later),
          session(3, SessionStatus.HELD, starts_at=later, contributors=("m-1",)))
    assert models.held_sessions(NET) == [SessionFacts(later, ("m-1",), "s-1")]


@pytest.mark.parametrize("stale", [session(1, SessionStatus.PLANNED), session(2, SessionStatus.HELD),
                                   session(2, SessionStatus.CANCELLED)], ids=["scheduled@1", "held@2", "same@2"])
def test_an_older_or_equal_session_snapshot_arriving_late_is_ignored(models: ReadModels,
                                                                     stale: SessionSnapshot) -> None:
    apply(models, session(2, SessionStatus.HELD, contributors=("m-1",)), session(3, SessionStatus.CLOSED,
                                                                                  contributors=("m-1",)))
    apply(models, stale)
    assert models.held_sessions(NET) == [SessionFacts(T0, ("m-1",), "s-1")]


def test_a_cancellation_newer_than_the_holding_takes_the_session_out(models: ReadModels) -> None:
    apply(models, session(4, SessionStatus.CANCELLED), session(3, SessionStatus.HELD))
    assert models.held_sessions(NET) == []


def test_a_redelivered_session_snapshot_is_counted_once(models: ReadModels) -> None:
    apply(models, session(2, SessionStatus.HELD), session(2, SessionStatus.HELD))
    assert len(models.held_sessions(NET)) == 1


# --- outputs and reflections ------------------------------------------------------------------------------------


def test_published_outputs_are_live_with_their_kind_and_visibility(models: ReadModels) -> None:
    apply(models, published("o-1", kind=OutputKind.LEARNING_QUESTION, visibility=Visibility.NETWORK),
          published("o-2", kind=OutputKind.RESOURCE, visibility=Visibility.FEDERATION),
          published("o-3", network_id=OTHER))
    assert sorted(models.live_outputs(NET), key=lambda o: o.kind) == [
        OutputFacts(OutputKind.LEARNING_QUESTION, Visibility.NETWORK),
        OutputFacts(OutputKind.RESOURCE, Visibility.FEDERATION),
    ]


def test_a_retracted_output_is_no_longer_live(models: ReadModels) -> None:
    apply(models, published("o-1"), published("o-2"), retracted("o-1"))
    assert len(models.live_outputs(NET)) == 1


def test_a_retraction_that_arrives_before_its_publication_keeps_the_output_out(models: ReadModels) -> None:
    apply(models, retracted("o-1"), published("o-1"))
    assert models.live_outputs(NET) == []


def test_a_redelivered_publication_or_retraction_changes_nothing(models: ReadModels) -> None:
    apply(models, published("o-1"), published("o-1"), published("o-2"), retracted("o-2"), retracted("o-2"),
          published("o-2"))
    assert models.live_outputs(NET) == [OutputFacts(OutputKind.LESSON, Visibility.PUBLIC)]


def test_reflections_are_counted_once_per_reflection_and_per_network(models: ReadModels) -> None:
    apply(models, reflection("r-1"), reflection("r-1"), reflection("r-2"), reflection("r-3", network_id=OTHER))
    assert (models.reflection_count(NET), models.reflection_count(OTHER), models.reflection_count("none")) == (2, 1, 0)


# --- through the service's idempotent consumer -----------------------------------------------------------------


def test_a_redelivered_envelope_is_applied_once_and_a_failed_one_leaves_no_trace(engine: Engine) -> None:
    event_id = uuid.uuid4()
    uow = NetworksUnitOfWork(engine, producer="networks")
    runs = [apply_once(uow, event_id, "networks.on_membership_joined",
                       lambda u: u.read_models.membership_joined(joined(2)))
            for _ in range(2)]
    assert runs == [True, False]

    def fails_half_way(u: Any) -> None:
        u.read_models.membership_joined(joined(3, member_id="m-2"))
        raise RuntimeError("worker died")

    failing_id = uuid.uuid4()
    with pytest.raises(RuntimeError):
        apply_once(uow, failing_id, "networks.on_membership_joined", fails_half_way)
    with uow:
        assert list(members(uow.read_models)) == ["m-1"]
    # not marked processed either: the redelivery after the crash is applied
    assert apply_once(uow, failing_id, "networks.on_membership_joined",
                      lambda u: u.read_models.membership_joined(joined(3, member_id="m-2")))
    with uow:
        assert sorted(members(uow.read_models)) == ["m-1", "m-2"]


# --- the members' learning loops: no words, no owner; the newest snapshot wins ----------------------------------


def loop_event(kind: type[LearningLoopSnapshot], revision: int, **changes: Any) -> LearningLoopSnapshot:
    at = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "loop_id": "l-1", "network_id": NET, "revision": revision, "status": "open", "owner_role": "participant",
        "urgency_stated": True, "opened_at": at, "brought_to_session_id": None, "experiment_session_id": None,
        "experiment_at": None, "mandate": None, "follow_up_session_id": None, "followed_up_at": None,
        "closed_at": None, "output_id": None}
    return kind(**values | changes)


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_loop_is_followed_to_its_newest_step_whatever_order_its_events_arrive_in(models: ReadModels,
                                                                                  order: tuple[int, ...]) -> None:
    at = datetime(2026, 3, 1, 19, 0, tzinfo=UTC)
    events = [loop_event(LearningQuestionOpened, 1),
              loop_event(ExperimentStarted, 3, status="experimenting", brought_to_session_id="s-1",
                         experiment_session_id="s-1", experiment_at=at, mandate="yes"),
              loop_event(ExperimentFollowedUp, 4, status="followed_up", brought_to_session_id="s-1",
                         experiment_session_id="s-1", experiment_at=at, mandate="yes", follow_up_session_id="s-2",
                         followed_up_at=at + timedelta(days=42))]
    apply(models, *(events[i] for i in order))
    apply(models, events[0])  # redelivered: changes nothing
    [loop] = models.loops_of(NET)
    assert (loop.mandate, loop.followed_up_at, loop.brought_to_session_id) == ("yes", at + timedelta(days=42), "s-1")
    assert loop.owner_role == MembershipRole.PARTICIPANT and loop.urgency_stated
    assert models.loops_of("other-network") == []
