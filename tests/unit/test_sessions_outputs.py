"""Outputs of a session: when they can be published, what they must carry, how authors appear, retraction."""

from __future__ import annotations

from typing import Any

import pytest

from services.common.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from services.common.nameko_kit import parse_request
from services.sessions import handlers
from services.sessions.domain.outputs import LICENCES
from services.sessions.schemas.commands import CancelSession, ListOutputs, PublishOutput, RetractOutput
from services.sessions.schemas.views import OutputOut, OutputTombstone
from tests.support.callers import OPERATOR, reader
from tests.unit.test_sessions_world import NETWORK, NOW, World


@pytest.fixture
def world() -> World:
    return World()


def rules(exc: ValidationFailed) -> set[tuple[str, str]]:
    return {(v["field"], v["rule"]) for v in exc.violations}


def invalid(**overrides: Any) -> set[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as raised:
        parse_request(PublishOutput, {"kind": "lesson", "title": "T", "authors": ["m-1"]} | overrides)
    return {(v["field"].split(".")[0], v["rule"]) for v in raised.value.violations}


def test_outputs_are_published_only_for_held_or_closed_sessions(world: World) -> None:
    anna = world.member()
    planned = world.schedule()
    with pytest.raises(IllegalTransition, match="cannot publish an output of a planned session"):
        world.publish(planned.id, [anna])
    handlers.cancel_session(OPERATOR, planned.id, CancelSession(), world.uow)
    with pytest.raises(IllegalTransition, match="cancelled"):
        world.publish(planned.id, [anna])
    held = world.held()
    assert world.publish(held.id, [anna]).kind == "lesson"
    handlers.close_session(OPERATOR, held.id, world.uow)
    assert world.publish(held.id, [anna]).kind == "lesson"


def test_a_resource_needs_a_link_and_a_resource_type(world: World) -> None:
    session, anna = world.held(), world.member()
    with pytest.raises(ValidationFailed) as raised:
        world.publish(session.id, [anna], kind="resource")
    assert rules(raised.value) == {("url", "required_for_resource"), ("resource_type", "required_for_resource")}
    clip = world.publish(session.id, [anna], kind="resource", url="https://video.example.org/clip",
                         resource_type="knowledge_clip")
    assert (clip.url, clip.resource_type) == ("https://video.example.org/clip", "knowledge_clip")


def test_only_a_resource_has_a_resource_type(world: World) -> None:
    session, anna = world.held(), world.member()
    with pytest.raises(ValidationFailed) as raised:
        world.publish(session.id, [anna], kind="conclusion", resource_type="publication")
    assert rules(raised.value) == {("resource_type", "resource_only")}


def test_every_author_must_be_a_member_of_the_network(world: World) -> None:
    session, anna, stranger = world.held(), world.member(), world.member("Stranger", network_id="elsewhere")
    with pytest.raises(ValidationFailed) as raised:
        world.publish(session.id, [anna, stranger])
    assert rules(raised.value) == {("authors.1", "network_member")}
    assert world.uow.outputs.rows == {}


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"authors": []}, {("authors", "too_short")}),
    ({"authors": [f"m-{i}" for i in range(21)]}, {("authors", "too_long")}),
    ({"themes": [f"t{i}" for i in range(21)]}, {("themes", "too_long")}),
    ({"themes": ["x" * 61]}, {("themes", "string_too_long")}),
    ({"title": "x" * 301}, {("title", "string_too_long")}),
    ({"body": "x" * 20001}, {("body", "string_too_long")}),
    ({"url": "ftp://example.org/file"}, {("url", "url_scheme")}),
    ({"licence": "GPL-3.0"}, {("licence", "literal_error")}),
    ({"visibility": "secret"}, {("visibility", "enum")}),
])
def test_single_fields_keep_their_limits(overrides: dict[str, Any], expected: set[tuple[str, str]]) -> None:
    assert invalid(**overrides) == expected


def test_themes_are_lower_cased_and_kept_once_and_defaults_are_network_visibility_and_cc_by(world: World) -> None:
    output = world.publish(world.held().id, [world.member()], themes=["Eenzaamheid", "eenzaamheid ", "Wijk"])
    assert output.themes == ["eenzaamheid", "wijk"]
    assert (output.visibility, output.licence) == ("network", "CC-BY-4.0")
    assert "CC-BY-4.0" in LICENCES


def test_output_published_carries_the_outside_view_of_each_author(world: World) -> None:
    session = world.held()
    fatima = world.member("Fatima", perspectives=("lived_experience",), named=False)
    jan = world.member("Jan", perspectives=("practitioner",), named=True)
    world.publish(session.id, [fatima, jan], visibility="federation")
    [payload] = world.uow.payloads("output.published")
    assert payload["authors"] == [
        {"member_id": fatima, "shown_as": "a participant with lived experience", "named": False},
        {"member_id": jan, "shown_as": "Jan", "named": True},
    ]
    assert (payload["visibility"], payload["network_id"], payload["session_id"]) == ("federation", NETWORK,
                                                                                      session.id)


def test_reading_an_output_names_authors_inside_the_network_and_respects_consent_outside(world: World) -> None:
    fatima = world.member("Fatima", perspectives=("lived_experience",))
    output = world.publish(world.held().id, [fatima], visibility="public")
    inside = handlers.get_output(reader(NETWORK), output.id, world.uow, world.feeds)
    outside = handlers.get_output(reader("some-other-network"), output.id, world.uow, world.feeds)
    assert isinstance(inside, OutputOut) and isinstance(outside, OutputOut)
    assert (inside.authors[0].shown_as, inside.authors[0].member_id) == ("Fatima", fatima)
    assert (outside.authors[0].shown_as, outside.authors[0].member_id) == ("a participant with lived experience", None)


def test_a_reader_whose_feed_holds_a_copy_opens_the_output_as_the_copy_shows_it(world: World) -> None:
    """From a feed item, GET /v1/outputs/{id} answers the network whose feed holds the copy: the copy, never a
    member id; a reader of no feed holding it is still refused, and an unknown id is still not found."""
    fatima = world.member("Fatima", perspectives=("lived_experience",), named=False)
    output = world.publish(world.held().id, [fatima], visibility="linked", themes=["eenzaamheid"])
    copy = {"output_id": output.id, "origin_network_id": NETWORK, "session_id": output.session_id,
            "kind": "lesson", "title": output.title, "body": "", "url": None, "resource_type": None,
            "themes": ["eenzaamheid"], "visibility": "linked", "licence": "CC-BY-4.0",
            "authors": [{"shown_as": "a participant with lived experience", "named": False}],
            "published_at": output.published_at.isoformat()}
    world.feeds.held[output.id] = ({"linked-network"}, copy)
    opened = handlers.get_output(reader("linked-network"), output.id, world.uow, world.feeds)
    assert isinstance(opened, OutputOut)
    assert (opened.id, opened.network_id, opened.visibility, opened.title) == (output.id, NETWORK, "linked",
                                                                            output.title)
    assert [a.model_dump() for a in opened.authors] == [
        {"member_id": None, "shown_as": "a participant with lived experience", "named": False,
         "role": "lived_experience"}]
    with pytest.raises(PermissionDenied):
        handlers.get_output(reader("some-other-network"), output.id, world.uow, world.feeds)
    inside = handlers.get_output(reader(NETWORK), output.id, world.uow, world.feeds)
    assert isinstance(inside, OutputOut) and inside.authors[0].member_id == fatima
    assert world.feeds.asked == [output.id, output.id]  # the feeds are asked only when the original is not theirs
    partners = {**copy, "output_id": "p-1", "origin_network_id": "partner-network", "session_id": None}
    world.feeds.held["p-1"] = ({"linked-network"}, partners)
    from_partner = handlers.get_output(reader("linked-network"), "p-1", world.uow, world.feeds)
    assert isinstance(from_partner, OutputOut) and (from_partner.network_id, from_partner.session_id) == (
        "partner-network", None)
    with pytest.raises(NotFound):
        handlers.get_output(reader("some-other-network"), "p-1", world.uow, world.feeds)
    world.feeds.held[output.id] = ({"linked-network"}, {"output_id": output.id, "origin_network_id": NETWORK,
                                                         "retracted": True, "retracted_at": NOW.isoformat()})
    assert isinstance(handlers.get_output(reader("linked-network"), output.id, world.uow, world.feeds),
                      OutputTombstone)


def test_outside_its_network_only_a_public_output_can_be_read_here(world: World) -> None:
    session = world.held().id
    shared = {v: world.publish(session, [world.member()], visibility=v).id for v in ("network", "linked", "public")}
    for visibility in ("network", "linked"):
        with pytest.raises(PermissionDenied):
            handlers.get_output(reader("some-other-network"), shared[visibility], world.uow, world.feeds)
    listed = handlers.list_outputs(reader("elsewhere"), ListOutputs(network_id=NETWORK), world.uow)
    assert [o.id for o in listed.items] == [shared["public"]]
    inside = handlers.list_outputs(reader(NETWORK), ListOutputs(network_id=NETWORK), world.uow)
    assert len(inside.items) == 3


def test_retracting_publishes_output_retracted_once_and_again_changes_nothing(world: World) -> None:
    output = world.publish(world.held().id, [world.member()])
    first = handlers.retract_output(OPERATOR, output.id, RetractOutput(reason="contains a name"), world.uow)
    second = handlers.retract_output(OPERATOR, output.id, RetractOutput(), world.uow)
    assert first == second
    assert world.uow.published_types().count("output.retracted") == 1
    assert world.uow.payloads("output.retracted")[0]["reason"] == "contains a name"


def test_a_retracted_output_is_listed_and_read_only_as_a_tombstone(world: World) -> None:
    session, anna = world.held(), world.member()
    kept = world.publish(session.id, [anna], title="Blijft")
    gone = world.publish(session.id, [anna], title="Weg")
    handlers.retract_output(OPERATOR, gone.id, RetractOutput(), world.uow)
    items = handlers.list_outputs(reader(NETWORK), ListOutputs(session_id=session.id), world.uow).items
    assert [type(i) for i in items] == [OutputOut, OutputTombstone]
    assert items[0].id == kept.id
    assert set(items[1].model_dump()) == {"id", "retracted_at"}
    assert isinstance(handlers.get_output(reader(NETWORK), gone.id, world.uow, world.feeds), OutputTombstone)


def test_listing_outputs_needs_a_network_or_a_session_and_pages_through_all(world: World) -> None:
    with pytest.raises(ValidationFailed) as raised:
        handlers.list_outputs(OPERATOR, ListOutputs(), world.uow)
    assert rules(raised.value) == {("network_id", "network_or_session")}
    session, anna = world.held(), world.member()
    published = [world.publish(session.id, [anna], title=f"Les {i}").id for i in range(5)]
    seen, token = [], None
    while True:
        query = ListOutputs(network_id=NETWORK, page_size=2, page_token=token)
        page = handlers.list_outputs(reader(NETWORK), query, world.uow)
        seen += [i.id for i in page.items]
        if not (token := page.next_page_token):
            break
    assert sorted(seen) == sorted(published) and len(seen) == 5


def test_an_unknown_output_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        handlers.get_output(reader(), "nope", world.uow, world.feeds)
    with pytest.raises(NotFound):
        handlers.retract_output(OPERATOR, "nope", RetractOutput(), world.uow)
