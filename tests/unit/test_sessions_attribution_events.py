"""output.attribution_changed: when an author's attribution outside their network changes (erasure, a new
name while they consent to be named, consent given or withdrawn, another perspective's role), every published,
not retracted output they authored tells its copies how its authors appear now. Run against the fake unit of
work and against the SQL one on a migrated SQLite file: both keep the same contract."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.common.catalogue import MemberErased, MemberUpdated
from services.common.vocabulary import Perspective
from services.sessions import handlers, models
from services.sessions.domain.outputs import FORMER_MEMBER, appears_differently_outside
from services.sessions.domain.read_models import Person, is_pseudonym
from services.sessions.schemas.commands import RetractOutput
from services.sessions.unit_of_work import SessionsUnitOfWork
from tests.support.callers import OPERATOR
from tests.support.consumers import consume
from tests.unit.test_sessions_world import NETWORK, World, envelope_of

CHANGED = "output.attribution_changed"
LIVED = "a participant with lived experience"


@pytest.fixture(params=["fake", "sql"])
def world(request: pytest.FixtureRequest, migrated_engine: Callable[[str], Engine]) -> World:
    if request.param == "fake":
        return World()
    return World(SessionsUnitOfWork(migrated_engine("sessions"), producer="sessions"))


def published(world: World, event_type: str = CHANGED) -> list[dict[str, Any]]:
    """The payloads the unit of work wrote to its outbox, oldest first."""
    if isinstance(world.uow, SessionsUnitOfWork):
        with world.uow.engine.connect() as conn:
            envelopes = conn.execute(select(models.outbox.c.envelope).where(models.outbox.c.event_type == event_type)
                                     .order_by(models.outbox.c.position)).scalars()
            return [e["payload"] for e in envelopes]
    return world.uow.payloads(event_type)


def update(world: World, member_id: str, revision: int, *, name: str, named: bool,
           perspectives: tuple[str, ...] = ("lived_experience",), event_id: uuid.UUID | None = None) -> None:
    payload = MemberUpdated(member_id=member_id, revision=revision, name=name, email="someone@example.org",
                            organisation=None, perspectives=[Perspective(p) for p in perspectives], expertise=[],
                            findable_by_expertise=False, named_in_shared_outputs=named)
    consume(handlers.member_changed, envelope_of(payload, event_id), payload, world.uow, "sessions.on_member_updated")


def erase(world: World, member_id: str, event_id: uuid.UUID | None = None) -> None:
    payload = MemberErased(member_id=member_id, revision=10)
    consume(handlers.member_erased, envelope_of(payload, event_id), payload, world.uow, "sessions.on_member_erased")


def publish(world: World, authors: list[str], **overrides: Any) -> str:
    session = world.held()
    return world.publish(session.id, authors, visibility="federation", **overrides).id


def shown(payload: dict[str, Any]) -> list[tuple[str, bool]]:
    return [(a["shown_as"], a["named"]) for a in payload["authors"]]


def test_withdrawing_consent_tells_every_published_output_the_author_now_appears_as_their_role(world: World) -> None:
    fatima = world.member("Fatima", perspectives=("lived_experience",), named=True)
    first, second = publish(world, [fatima]), publish(world, [fatima])
    publish(world, [world.member("Bram")])  # not hers: not told
    update(world, fatima, 3, name="Fatima", named=False)
    changed = published(world)
    assert sorted(p["output_id"] for p in changed) == sorted([first, second])
    assert all(shown(p) == [(LIVED, False)] for p in changed)
    assert all(p["network_id"] == NETWORK and p["changed_at"] for p in changed)


def test_giving_consent_names_the_author_in_the_copies(world: World) -> None:
    fatima = world.member("Fatima", perspectives=("lived_experience",))
    output = publish(world, [fatima])
    update(world, fatima, 3, name="Fatima", named=True)
    [changed] = published(world)
    assert (changed["output_id"], shown(changed)) == (output, [("Fatima", True)])


def test_a_new_name_of_a_consenting_author_reaches_the_copies(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    publish(world, [fatima])
    update(world, fatima, 3, name="Fatima el Amrani", named=True)
    assert [shown(p) for p in published(world)] == [[("Fatima el Amrani", True)]]


def test_a_new_name_of_an_author_who_is_not_named_outside_changes_no_copy(world: World) -> None:
    fatima = world.member("Fatima", perspectives=("lived_experience",))
    publish(world, [fatima])
    update(world, fatima, 3, name="Fatima el Amrani", named=False)
    assert published(world) == []


def test_another_first_perspective_changes_the_role_a_non_consenting_author_appears_as(world: World) -> None:
    fatima = world.member("Fatima", perspectives=("lived_experience",))
    publish(world, [fatima])
    update(world, fatima, 3, name="Fatima", named=False, perspectives=("resident",))
    assert [shown(p) for p in published(world)] == [[("a resident", False)]]


def test_the_event_carries_every_author_as_they_appear_outside_and_never_a_non_consenting_name(world: World) -> None:
    fatima = world.member("Fatima", perspectives=("lived_experience",), named=True)
    bram = world.member("Bram", perspectives=("practitioner",))
    publish(world, [fatima, bram])
    update(world, fatima, 3, name="Fatima", named=False)
    [changed] = published(world)
    assert shown(changed) == [(LIVED, False), ("a practitioner", False)]
    assert "Fatima" not in str(changed) and "Bram" not in str(changed)


def test_a_retracted_output_is_not_told(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    kept, withdrawn = publish(world, [fatima]), publish(world, [fatima])
    handlers.retract_output(OPERATOR, withdrawn, RetractOutput(reason="fout"), world.uow)
    update(world, fatima, 3, name="Fatima", named=False)
    assert [p["output_id"] for p in published(world)] == [kept]


def test_a_redelivered_or_older_update_tells_nobody_again(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    publish(world, [fatima])
    event_id = uuid.uuid4()
    update(world, fatima, 3, name="Fatima", named=False, event_id=event_id)
    update(world, fatima, 3, name="Fatima", named=False, event_id=event_id)  # redelivered
    update(world, fatima, 2, name="Fatima", named=True)  # an older snapshot, arriving late
    assert len(published(world)) == 1


def test_erasure_tells_every_copy_the_author_is_a_former_member_under_a_pseudonym(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    bram = world.member("Bram", perspectives=("practitioner",))
    output = publish(world, [fatima, bram])
    erase(world, fatima)
    [changed] = published(world)
    assert changed["output_id"] == output
    assert shown(changed) == [(FORMER_MEMBER, False), ("a practitioner", False)]
    erased_id = changed["authors"][0]["member_id"]
    assert is_pseudonym(erased_id) and fatima not in str(changed)


def test_erasure_does_not_tell_retracted_outputs_and_a_second_erasure_tells_nothing(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    kept, withdrawn = publish(world, [fatima]), publish(world, [fatima])
    handlers.retract_output(OPERATOR, withdrawn, RetractOutput(), world.uow)
    event_id = uuid.uuid4()
    erase(world, fatima, event_id)
    erase(world, fatima, event_id)  # redelivered
    erase(world, fatima)  # another erased event: nothing is left to re-point
    assert [p["output_id"] for p in published(world)] == [kept]


def test_an_update_after_erasure_tells_nobody(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    publish(world, [fatima])
    erase(world, fatima)
    update(world, fatima, 11, name="Fatima", named=True)
    assert len(published(world)) == 1


def test_the_event_commits_with_the_change_that_caused_it(world: World) -> None:
    fatima = world.member("Fatima", named=True)
    publish(world, [fatima])
    payload = MemberUpdated(member_id=fatima, revision=3, name="Fatima", email="f@example.org", organisation=None,
                            perspectives=[], expertise=[], findable_by_expertise=False, named_in_shared_outputs=False)

    class Boom(Exception):
        pass

    commit = world.uow.commit

    def failing_commit() -> None:
        raise Boom

    world.uow.commit = failing_commit  # the worker dies before its transaction commits
    with pytest.raises(Boom):
        consume(handlers.member_changed, envelope_of(payload), payload, world.uow, "sessions.on_member_updated")
    world.uow.commit = commit
    assert published(world) == []
    with world.uow:
        assert world.uow.read_models.person(fatima).named_in_shared_outputs is True


@pytest.mark.parametrize(("before", "after", "differs"), [
    (Person("m", 1, "Anna", (Perspective.RESIDENT,), True), Person("m", 2, "Anne", (Perspective.RESIDENT,), True),
     True),
    (Person("m", 1, "Anna", (Perspective.RESIDENT,), False), Person("m", 2, "Anne", (Perspective.RESIDENT,), False),
     False),
    (Person("m", 1, "Anna", (Perspective.RESIDENT,), False), Person("m", 2, "Anna", (Perspective.RESIDENT,), True),
     True),
    (Person("m", 1, "Anna", (Perspective.RESIDENT,), True), Person("m", 2, "Anna", (), True, erased=True), True),
    (Person("m", 1, "Anna", (Perspective.RESIDENT,), False), Person("m", 2, "Anna", (Perspective.CLIENT,), False),
     True),
    (None, Person("m", 2, "Anna", (), False), False),
])
def test_only_a_change_in_how_someone_appears_outside_counts(before: Person | None, after: Person,
                                                              differs: bool) -> None:
    assert appears_differently_outside(before, after) is differs
