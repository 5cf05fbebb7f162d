"""Asking an expert a question through Kring: the domain, the handlers and who sees what (members service, on
SQLite migrated by Alembic; decision 0010)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.common.catalogue import ExpertQuestionAnswered, ExpertQuestionAsked
from services.common.db import create_service_engine
from services.common.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from services.common.events import parse_event
from services.common.migrations import upgrade
from services.common.vocabulary import MembershipRole, Perspective
from services.members import handlers, models
from services.members.domain import ExpertQuestion, Member
from services.members.schemas import (
    AnswerQuestion,
    AskQuestion,
    DeclineQuestion,
    JoinNetwork,
    ListQuestions,
    QuestionStatus,
    RegisterMember,
    UpdateMember,
)
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.callers import OPERATOR, member
from tests.unit.fakes import FakeNetworkDirectory

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'members.db'}"
    upgrade("members", url)
    engine = create_service_engine(url, "members")
    yield engine
    engine.dispose()


@pytest.fixture
def uow(engine: Engine) -> MembersUnitOfWork:
    return MembersUnitOfWork(engine, producer="members")


def person(uow: MembersUnitOfWork, name: str, *networks: str, **profile: Any) -> str:
    body = {"name": name, "email": f"{name.lower()}@example.org", "perspectives": ["resident"]} | profile
    member_id = handlers.register_member(OPERATOR, RegisterMember.model_validate(body), uow).id
    for network_id in networks:
        handlers.join_network(OPERATOR, member_id, network_id, JoinNetwork(role=MembershipRole.PARTICIPANT), uow,
                              FakeNetworkDirectory())
    return member_id


@pytest.fixture
def people(uow: MembersUnitOfWork) -> dict[str, str]:
    return {
        "mo": person(uow, "Mo", "noord"),
        "anna": person(uow, "Anna", "noord", expertise=["wijkaanpak"], findable_by_expertise=True,
                       organisation="Buurtteam"),
        "bram": person(uow, "Bram", "noord", expertise=["wijkaanpak"]),  # did not consent to be found
        "cees": person(uow, "Cees", "zuid", expertise=["wijkaanpak"], findable_by_expertise=True),
        "kim": person(uow, "Kim", "noord"),
    }


def as_member(member_id: str) -> Any:
    return member(member_id, member_of={"noord"})


def ask(uow: MembersUnitOfWork, asker: str, expert: str, **extra: Any) -> Any:
    body = {"expert_id": expert, "network_id": "noord", "question": "Hoe begin je een buurtkring?"} | extra
    return handlers.ask_question(as_member(asker), AskQuestion.model_validate(body), uow)


def rules(raised: pytest.ExceptionInfo[Any]) -> list[tuple[str, str]]:
    return [(v["field"], v["rule"]) for v in raised.value.violations]


def outbox_types(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [row.event_type for row in connection.execute(select(models.outbox.c.event_type)
                                                             .order_by(models.outbox.c.position))]


# --- the domain -------------------------------------------------------------------------------------------------

def a_member(member_id: str, *, findable: bool = True, networks: tuple[str, ...] = ("noord",)) -> Member:
    someone = Member.register(member_id, now=T0, name=member_id.title(), email=f"{member_id}@example.org",
                              organisation=None, perspectives=[Perspective.RESIDENT], expertise=["wijkaanpak"],
                              findable_by_expertise=findable, named_in_shared_outputs=False)
    for network_id in networks:
        someone.join(network_id, MembershipRole.PARTICIPANT, now=T0)
    return someone


@pytest.mark.parametrize("expert", [None, a_member("e", findable=False), a_member("e", networks=("zuid",))],
                         ids=["unknown", "did-not-consent", "not-in-the-network"])
def test_only_a_findable_expert_of_the_network_can_be_asked_and_the_refusal_is_the_same_for_all(expert) -> None:
    with pytest.raises(ValidationFailed) as raised:
        ExpertQuestion.ask("q", asker=a_member("a"), expert=expert, network_id="noord", tag=None, text="Hoe?",
                           share_name=False, now=T0)
    assert rules(raised) == [("expert_id", "findable_expert")]
    assert raised.value.violations[0]["message"] == "no member who consented to be found by expertise has this " \
                                                    "id in this network"


def test_one_cannot_ask_oneself_nor_about_a_tag_the_expert_does_not_have() -> None:
    anna = a_member("anna")
    with pytest.raises(ValidationFailed) as raised:
        ExpertQuestion.ask("q", asker=anna, expert=anna, network_id="noord", tag=None, text="?", share_name=False,
                           now=T0)
    assert rules(raised) == [("expert_id", "not_yourself")]
    with pytest.raises(ValidationFailed) as raised:
        ExpertQuestion.ask("q", asker=a_member("mo"), expert=anna, network_id="noord", tag="armoede", text="?",
                           share_name=False, now=T0)
    assert rules(raised) == [("tag", "expert_has_tag")]


def test_a_question_is_answered_or_declined_once_and_each_step_records_an_event_without_people_in_it() -> None:
    question = ExpertQuestion.ask("q", asker=a_member("mo"), expert=a_member("anna"), network_id="noord",
                                  tag="wijkaanpak", text="Hoe?", share_name=True, now=T0)
    question.answer_with("Zo.", share_email=False, contact_note=None, now=T0)
    assert question.status == QuestionStatus.ANSWERED and not question.contact_shared
    with pytest.raises(IllegalTransition) as raised:
        question.decline(None, now=T0)
    assert rules(raised) == [("status", "open")]
    asked, answered = question.events
    assert isinstance(asked, ExpertQuestionAsked) and isinstance(answered, ExpertQuestionAnswered)
    assert "mo" not in str(asked.model_dump()) and "anna" not in str(answered.model_dump())
    assert answered.revision == 2 and answered.contact_shared is False


# --- the handlers -----------------------------------------------------------------------------------------------

def test_asking_stores_the_question_with_its_event_and_shows_the_asker_the_expert_without_contact(
        uow, engine, people) -> None:
    asked = ask(uow, people["mo"], people["anna"], tag="wijkaanpak")
    assert asked.role == "asked" and asked.status == QuestionStatus.OPEN
    assert asked.expert is not None and asked.expert.name == "Anna" and asked.expert.organisation == "Buurtteam"
    assert asked.expert_contact is None and "anna@example.org" not in asked.model_dump_json()
    assert outbox_types(engine)[-1] == "expert_question.asked"
    with engine.connect() as connection:
        envelope = connection.execute(select(models.outbox.c.envelope).order_by(models.outbox.c.position.desc())) \
            .scalar()
    _, payload = parse_event(envelope)
    assert isinstance(payload, ExpertQuestionAsked)
    assert payload.question_id == asked.id and payload.tag == "wijkaanpak"
    assert people["mo"] not in str(envelope) and people["anna"] not in str(envelope)


def test_the_expert_sees_the_askers_name_only_if_the_asker_shared_it_and_never_their_id_or_address(
        uow, people) -> None:
    anonymous = ask(uow, people["mo"], people["anna"])
    named = ask(uow, people["mo"], people["anna"], share_name=True)
    as_anna = as_member(people["anna"])
    received = handlers.get_question(as_anna, anonymous.id, uow)
    assert received.role == "received" and received.expert is None
    assert received.asker is not None and received.asker.name is None
    assert received.asker.perspectives == [Perspective.RESIDENT]
    assert people["mo"] not in received.model_dump_json() and "mo@example.org" not in received.model_dump_json()
    assert handlers.get_question(as_anna, named.id, uow).asker.name == "Mo"  # type: ignore[union-attr]


@pytest.mark.parametrize("expert", ["bram", "cees", "nobody"])
def test_asking_someone_who_is_not_a_findable_expert_of_the_network_is_422_on_expert_id_and_stores_nothing(
        uow, engine, people, expert) -> None:
    before = outbox_types(engine)
    with pytest.raises(ValidationFailed) as raised:
        ask(uow, people["mo"], people.get(expert, "no-such-id"))
    assert rules(raised) == [("expert_id", "findable_expert")]
    assert outbox_types(engine) == before


def test_asking_needs_a_member_in_the_network(uow, people) -> None:
    body = AskQuestion(expert_id=people["anna"], network_id="noord", question="?")
    for caller in (OPERATOR, member(people["mo"], member_of={"zuid"})):
        with pytest.raises(PermissionDenied):
            handlers.ask_question(caller, body, uow)


def test_the_asker_sees_the_contact_the_expert_chose_to_share_with_the_answer(uow, engine, people) -> None:
    question = ask(uow, people["mo"], people["anna"])
    answered = handlers.answer_question(as_member(people["anna"]), question.id,
                                        AnswerQuestion(answer="Begin klein.", share_email=True,
                                                       contact_note="bel op dinsdag"), uow)
    assert answered.status == QuestionStatus.ANSWERED and answered.role == "received"
    seen = handlers.get_question(as_member(people["mo"]), question.id, uow)
    assert seen.answer == "Begin klein."
    assert seen.expert_contact is not None
    assert (seen.expert_contact.email, seen.expert_contact.note) == ("anna@example.org", "bel op dinsdag")
    assert outbox_types(engine)[-1] == "expert_question.answered"


def test_an_answer_without_sharing_shows_no_contact(uow, people) -> None:
    question = ask(uow, people["mo"], people["anna"])
    handlers.answer_question(as_member(people["anna"]), question.id, AnswerQuestion(answer="Nee."), uow)
    assert handlers.get_question(as_member(people["mo"]), question.id, uow).expert_contact is None


def test_only_the_expert_answers_or_declines_and_only_once(uow, engine, people) -> None:
    question = ask(uow, people["mo"], people["anna"])
    for caller in (as_member(people["mo"]), as_member(people["kim"]), OPERATOR):
        with pytest.raises(PermissionDenied):
            handlers.answer_question(caller, question.id, AnswerQuestion(answer="Ja."), uow)
        with pytest.raises(PermissionDenied):
            handlers.decline_question(caller, question.id, DeclineQuestion(), uow)
    declined = handlers.decline_question(as_member(people["anna"]), question.id, DeclineQuestion(reason="geen tijd"),
                                         uow)
    assert declined.status == QuestionStatus.DECLINED
    assert handlers.get_question(as_member(people["mo"]), question.id, uow).decline_reason == "geen tijd"
    with pytest.raises(IllegalTransition):
        handlers.answer_question(as_member(people["anna"]), question.id, AnswerQuestion(answer="Toch."), uow)
    assert outbox_types(engine)[-2:] == ["expert_question.asked", "expert_question.declined"]


def test_only_the_asker_and_the_expert_see_a_question_and_an_unknown_one_is_not_found(uow, people) -> None:
    question = ask(uow, people["mo"], people["anna"])
    for caller in (as_member(people["kim"]), OPERATOR, member(people["kim"], administers={"noord"})):
        with pytest.raises(PermissionDenied):
            handlers.get_question(caller, question.id, uow)
    with pytest.raises(NotFound):
        handlers.get_question(as_member(people["mo"]), "no-such-question", uow)


def test_each_member_lists_the_questions_they_asked_or_received_newest_first_in_pages(uow, people) -> None:
    first = ask(uow, people["mo"], people["anna"], question="Eerste?")
    second = ask(uow, people["mo"], people["anna"], question="Tweede?")
    ask(uow, people["kim"], people["anna"], question="Van Kim?")
    asked = handlers.list_questions(as_member(people["mo"]), ListQuestions(role="asked", page_size=1), uow)
    assert [q.id for q in asked.items] == [second.id]
    rest = handlers.list_questions(as_member(people["mo"]),
                                   ListQuestions(role="asked", page_size=1, page_token=asked.next_page_token), uow)
    assert [q.id for q in rest.items] == [first.id] and rest.next_page_token is None
    received = handlers.list_questions(as_member(people["anna"]), ListQuestions(role="received"), uow)
    assert len(received.items) == 3 and all(q.role == "received" for q in received.items)
    assert handlers.list_questions(as_member(people["kim"]), ListQuestions(role="received"), uow).items == []
    handlers.decline_question(as_member(people["anna"]), first.id, DeclineQuestion(), uow)
    still_open = handlers.list_questions(as_member(people["anna"]),
                                         ListQuestions(role="received", status=QuestionStatus.OPEN), uow)
    assert first.id not in [q.id for q in still_open.items] and len(still_open.items) == 2
    with pytest.raises(PermissionDenied):
        handlers.list_questions(OPERATOR, ListQuestions(role="asked"), uow)


def test_an_expert_who_withdraws_consent_still_sees_and_answers_the_questions_already_asked(uow, people) -> None:
    question = ask(uow, people["mo"], people["anna"])
    handlers.update_member(member(people["anna"]), people["anna"], UpdateMember(findable_by_expertise=False), uow)
    handlers.answer_question(as_member(people["anna"]), question.id, AnswerQuestion(answer="Nog wel."), uow)
    with pytest.raises(ValidationFailed):
        ask(uow, people["mo"], people["anna"])  # but no new ones


def test_erasing_either_party_removes_the_question_for_both_and_the_export_holds_ones_questions(uow, people) -> None:
    question = ask(uow, people["mo"], people["anna"])
    exported = handlers.export_member(member(people["mo"]), people["mo"], uow)
    assert [q.id for q in exported.questions] == [question.id] and exported.questions[0].role == "asked"
    handlers.erase_member(member(people["anna"]), people["anna"], uow)
    assert handlers.list_questions(as_member(people["mo"]), ListQuestions(role="asked"), uow).items == []
    with pytest.raises(NotFound):
        handlers.get_question(as_member(people["mo"]), question.id, uow)
