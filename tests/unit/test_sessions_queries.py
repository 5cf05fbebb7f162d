"""Reading sessions: one by id, lists filtered by network, status and a time window, keyset-paged; and the
shape of the service (its RPC methods and stable event-handler queue names)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.common.errors import NotFound, ValidationFailed
from services.common.nameko_kit import parse_request
from services.common.topology import handler_queues
from services.sessions import handlers
from services.sessions.schemas.commands import CancelSession, ListSessions
from services.sessions.service import SERVICE, SessionsService
from tests.support.callers import OPERATOR, reader
from tests.unit.test_sessions_world import FUTURE, NETWORK, World


@pytest.fixture
def world() -> World:
    world = World()
    world.network("other-network")
    return world


def at(world: World, days: int, **overrides: str) -> str:
    start = FUTURE + timedelta(days=days)
    return world.schedule(starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat(),
                          **overrides).id


def all_pages(world: World, **query: object) -> list[str]:
    seen, token = [], None
    while True:
        page = handlers.list_sessions(OPERATOR, ListSessions.model_validate(query | {"page_token": token}), world.uow)
        seen += [s.id for s in page.items]
        if not (token := page.next_page_token):
            return seen


def test_an_unknown_session_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        handlers.get_session_view(OPERATOR, "nope", world.uow)


def test_sessions_are_listed_in_start_order_across_pages_without_gaps_or_repeats(world: World) -> None:
    ids = [at(world, days) for days in (5, 1, 3, 2, 4)]
    same_time = at(world, 1)  # a tie on starts_at is broken by id
    listed = all_pages(world, page_size=2)
    assert sorted(listed) == sorted([*ids, same_time]) and len(listed) == 6
    assert listed[-1] == ids[0]


def test_sessions_are_filtered_by_network_status_and_window(world: World) -> None:
    early, late = at(world, 1), at(world, 10)
    at(world, 2, network_id="other-network")
    handlers.cancel_session(OPERATOR, late, CancelSession(), world.uow)
    assert all_pages(world, network_id="werkplaats-noord") == [early, late]
    assert all_pages(world, network_id="werkplaats-noord", status="cancelled") == [late]
    window = {"starts_from": (FUTURE + timedelta(days=1)).isoformat(),
              "starts_before": (FUTURE + timedelta(days=2)).isoformat()}
    assert all_pages(world, **window) == [early]


@pytest.mark.parametrize("token", ["garbage", "W10=", "WyJub3QtYS1kYXRlIiwgIngiXQ=="])
def test_a_page_token_this_api_did_not_return_is_refused_on_page_token(world: World, token: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        handlers.list_sessions(OPERATOR, ListSessions(page_token=token), world.uow)
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("page_token", "valid_page_token")]


@pytest.mark.parametrize("size", [0, 201])
def test_page_size_is_between_1_and_200(size: int) -> None:
    with pytest.raises(ValidationFailed) as raised:
        parse_request(ListSessions, {"page_size": size})
    assert raised.value.violations[0]["field"] == "page_size"


def test_the_service_is_called_sessions_and_exposes_its_rpc_methods() -> None:
    assert SERVICE is SessionsService and SessionsService.name == "sessions"
    for method in ("schedule_session", "reschedule_session", "hold_session", "close_session", "cancel_session",
                   "get_session", "list_sessions", "register_for_session", "cancel_registration",
                   "list_registrations", "record_attendance", "get_attendance", "publish_output", "retract_output",
                   "get_output", "list_outputs", "record_reflection", "list_reflections", "learning_report",
                   "export_member", "health"):
        assert callable(getattr(SessionsService, method))


def test_event_handler_queue_names_are_stable() -> None:
    names = sorted(q.name for q in handler_queues(SessionsService))
    assert names == sorted([
        "evt-networks-network.created--sessions.on_network_created",
        "evt-networks-network.updated--sessions.on_network_updated",
        "evt-networks-network.archived--sessions.on_network_archived",
        "evt-members-member.registered--sessions.on_member_registered",
        "evt-members-member.updated--sessions.on_member_updated",
        "evt-members-member.erased--sessions.on_member_erased",
        "evt-members-membership.joined--sessions.on_membership_joined",
        "evt-members-membership.left--sessions.on_membership_left",
    ])


def test_contributors_are_identifiable_only_inside_the_session_network_or_with_consent() -> None:
    """Outside the session's network a contributor appears as authors of outputs do: no member id, the name
    only with consent to be named, else their perspective; inside it, id and name."""
    world = World()
    fatima = world.member("Fatima", perspectives=("lived_experience",), named=False)
    jan = world.member("Jan", perspectives=("practitioner",), named=True)
    session = world.schedule(contributions=[{"member_id": fatima, "topic": "Mijn verhaal"},
                                            {"member_id": jan, "topic": "Casus"}])
    inside = handlers.get_session_view(reader(NETWORK), session.id, world.uow).contributions
    assert [(c.member_id, c.shown_as, c.named, c.topic) for c in inside] == [
        (fatima, "Fatima", True, "Mijn verhaal"), (jan, "Jan", True, "Casus")]
    for view in (handlers.get_session_view(reader("elsewhere"), session.id, world.uow),
                 handlers.list_sessions(reader("elsewhere"), ListSessions(network_id=NETWORK), world.uow).items[0]):
        outside = view.model_dump(mode="json")["contributions"]
        assert outside == [
            {"member_id": None, "shown_as": "a participant with lived experience", "named": False,
             "topic": "Mijn verhaal", "role": "lived_experience"},
            {"member_id": None, "shown_as": "Jan", "named": True, "topic": "Casus", "role": None}]
        assert fatima not in str(view.model_dump(mode="json"))
