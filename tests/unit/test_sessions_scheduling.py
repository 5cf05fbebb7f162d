"""Scheduling a session: the plan's rules (mode and place, times, world café statements) and the network."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from services.common.errors import Conflict, NotFound, ValidationFailed
from services.common.nameko_kit import parse_request
from services.common.vocabulary import NetworkStatus, UnpreparedPolicy
from services.sessions import handlers
from services.sessions.domain.read_models import KnownNetwork
from services.sessions.schemas.commands import RescheduleSession, ScheduleSession
from tests.support.callers import OPERATOR
from tests.unit.test_sessions_world import FUTURE, NETWORK, PAST, World


def fields_and_rules(exc: ValidationFailed) -> set[tuple[str, str]]:
    return {(v["field"], v["rule"]) for v in exc.violations}


def refused(world: World, **overrides: Any) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        world.schedule(**overrides)
    assert world.uow.sessions.rows == {}
    return fields_and_rules(raised.value)


def invalid_request(**overrides: Any) -> set[tuple[str, str]]:
    request = {"network_id": NETWORK, "title": "Sessie", "format": "webinar", "mode": "online",
               "meeting_url": "https://meet.example.org/x", "starts_at": FUTURE.isoformat(),
               "ends_at": (FUTURE + timedelta(hours=1)).isoformat()} | overrides
    with pytest.raises(ValidationFailed) as raised:
        parse_request(ScheduleSession, request)
    return fields_and_rules(raised.value)


@pytest.fixture
def world() -> World:
    return World()


def test_an_in_person_session_needs_a_location(world: World) -> None:
    assert refused(world, mode="in_person", location=None) == {("location", "required_for_mode")}


def test_an_online_session_needs_a_meeting_link(world: World) -> None:
    assert refused(world, mode="online", location=None) == {("meeting_url", "required_for_mode")}


def test_a_hybrid_session_needs_both_a_location_and_a_meeting_link(world: World) -> None:
    assert refused(world, mode="hybrid", location=None) == {("location", "required_for_mode"),
                                                            ("meeting_url", "required_for_mode")}
    session = world.schedule(mode="hybrid", meeting_url="https://meet.example.org/kring")
    assert (session.location, session.meeting_url) == ("Buurthuis De Kring", "https://meet.example.org/kring")


@pytest.mark.parametrize("url", ["ftp://files.example.org/x", "javascript:alert(1)", "meet.example.org"])
def test_a_meeting_link_must_be_an_http_or_https_url(url: str) -> None:
    assert {field for field, _ in invalid_request(meeting_url=url)} == {"meeting_url"}


@pytest.mark.parametrize("format", ["learning_session", "webinar", "intervision"])
def test_only_a_world_cafe_or_a_knowledge_cafe_has_statements(world: World, format: str) -> None:
    assert refused(world, format=format, statements=["Wie zorgt er voor wie?"]) == {("statements", "cafe_only")}
    for cafe_format in ("world_cafe", "knowledge_cafe"):
        cafe = world.schedule(format=cafe_format, statements=["Wie zorgt er voor wie?", "Wat is eenzaamheid?"])
        assert cafe.statements == ["Wie zorgt er voor wie?", "Wat is eenzaamheid?"]


def test_a_session_ends_after_it_starts(world: World) -> None:
    assert refused(world, ends_at=FUTURE.isoformat()) == {("ends_at", "after_starts_at")}


def test_a_session_lasts_at_most_24_hours(world: World) -> None:
    assert refused(world, ends_at=(FUTURE + timedelta(hours=24, minutes=1)).isoformat()) == {
        ("ends_at", "max_duration")}
    assert world.schedule(ends_at=(FUTURE + timedelta(hours=24)).isoformat()).status == "planned"


def test_times_without_an_offset_are_refused() -> None:
    assert invalid_request(starts_at="2026-05-01T19:00:00") == {("starts_at", "timezone_aware")}


def test_times_are_kept_in_utc_whatever_offset_they_came_with(world: World) -> None:
    session = world.schedule(starts_at="2026-05-01T19:00:00+02:00", ends_at="2026-05-01T21:00:00+02:00")
    assert session.starts_at.isoformat() == "2026-05-01T17:00:00+00:00"


@pytest.mark.parametrize(("field", "value"), [
    ("capacity", 0), ("capacity", 10001), ("title", "   "), ("title", "x" * 201), ("agenda", "x" * 10001),
    ("contributions", [{"member_id": "m", "topic": "t"}] * 51), ("statements", ["s"] * 51), ("format", "party"),
])
def test_single_fields_keep_their_limits(field: str, value: Any) -> None:
    assert {f.split(".")[0] for f, _ in invalid_request(**{field: value})} == {field}


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        ScheduleSession.model_validate({"network_id": NETWORK, "colour": "red"})


def test_a_session_in_the_past_can_be_scheduled_to_record_what_happened_before_kring(world: World) -> None:
    session = world.schedule(starts_at=PAST.isoformat(), ends_at=(PAST + timedelta(hours=1)).isoformat())
    assert handlers.hold_session(OPERATOR, session.id, world.uow).status == "held"


def test_scheduling_records_session_scheduled_without_the_meeting_link(world: World) -> None:
    session = world.schedule(mode="online", location=None, meeting_url="https://meet.example.org/secret",
                             contributions=[{"member_id": "m-1", "topic": "Casus"}], capacity=12)
    [event] = world.uow.published
    assert event.type == "session.scheduled"
    assert event.payload["session_id"] == session.id
    assert event.payload["contributor_ids"] == ["m-1"]
    assert event.payload["capacity"] == 12
    assert "meeting_url" not in event.payload and "secret" not in str(event.payload)


def test_scheduling_in_an_unknown_network_is_not_found(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        world.schedule(network_id="nowhere")
    assert raised.value.violations[0]["field"] == "network_id"


def test_scheduling_in_an_archived_network_is_a_conflict(world: World) -> None:
    world.network(status="archived")
    with pytest.raises(Conflict) as raised:
        world.schedule()
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("network_id", "active_network")]


def test_a_network_created_a_moment_ago_is_asked_of_the_networks_service_and_remembered(world: World) -> None:
    world.directory.networks["brand-new"] = KnownNetwork("brand-new", 1, "New", NetworkStatus.ACTIVE, False,
                                                         UnpreparedPolicy.REFUSE)
    assert world.schedule(network_id="brand-new").network_id == "brand-new"
    assert world.uow.read_models.network("brand-new") is not None
    world.schedule(network_id="brand-new")
    assert world.directory.asked == ["network:brand-new"]  # the second time, the read model knew it


def test_rescheduling_through_the_handler_keeps_the_history_and_publishes_the_event(world: World) -> None:
    session = world.schedule()
    later = FUTURE + timedelta(days=1)
    cmd = RescheduleSession(starts_at=later, ends_at=later + timedelta(hours=2), reason="speaker ill")
    moved = handlers.reschedule_session(OPERATOR, session.id, cmd, world.uow)
    assert (moved.starts_at, moved.revision) == (later, 2)
    assert [(r.previous_starts_at, r.reason) for r in moved.reschedules] == [(FUTURE, "speaker ill")]
    assert world.uow.published_types() == ["session.scheduled", "session.rescheduled"]
    assert handlers.get_session_view(OPERATOR, session.id, world.uow).reschedules == moved.reschedules
