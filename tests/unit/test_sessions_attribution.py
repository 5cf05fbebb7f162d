"""Consent-aware attribution: inside their network authors are named; outside it, only those who consented
are, and the others appear as their perspective. An erased member is "a former member" everywhere."""

from __future__ import annotations

import pytest

from services.common.catalogue import Attribution
from services.common.vocabulary import PERSPECTIVE_ROLE_NAMES, Perspective, author_role
from services.sessions.domain.outputs import A_PARTICIPANT, FORMER_MEMBER, attribution
from services.sessions.domain.read_models import Person, new_pseudonym


def person(*perspectives: Perspective, named: bool = False, erased: bool = False) -> Person:
    return Person("m-1", 3, "Fatima el Amrani", perspectives, named, erased=erased)


def test_inside_the_network_an_author_is_named_even_without_consent() -> None:
    assert attribution(person(Perspective.LIVED_EXPERIENCE), inside_network=True) == Attribution(
        member_id="m-1", shown_as="Fatima el Amrani", named=True)


def test_outside_the_network_an_author_who_consented_is_named() -> None:
    assert attribution(person(Perspective.RESIDENT, named=True), inside_network=False).shown_as == "Fatima el Amrani"


def test_outside_the_network_an_author_who_did_not_consent_appears_as_their_first_perspective() -> None:
    shown = attribution(person(Perspective.LIVED_EXPERIENCE, Perspective.RESIDENT), inside_network=False)
    assert shown == Attribution(member_id="m-1", shown_as="a participant with lived experience", named=False)


@pytest.mark.parametrize("perspective", list(Perspective))
def test_every_perspective_has_a_role_to_appear_as(perspective: Perspective) -> None:
    assert attribution(person(perspective), inside_network=False).shown_as == PERSPECTIVE_ROLE_NAMES[perspective]


def test_an_author_without_perspectives_appears_as_a_participant() -> None:
    assert attribution(person(), inside_network=False).shown_as == A_PARTICIPANT


@pytest.mark.parametrize("inside", [True, False])
def test_an_erased_author_is_a_former_member_inside_and_outside_the_network(inside: bool) -> None:
    shown = attribution(person(Perspective.RESIDENT, named=True, erased=True), inside_network=inside)
    assert (shown.shown_as, shown.named) == (FORMER_MEMBER, False)


def test_a_pseudonym_left_by_erasure_is_a_former_member() -> None:
    assert attribution(Person.unknown(new_pseudonym()), inside_network=True).shown_as == FORMER_MEMBER


def test_an_author_this_service_has_not_seen_yet_is_never_shown_with_an_empty_name() -> None:
    shown = attribution(Person.unknown("m-9"), inside_network=True)
    assert (shown.shown_as, shown.named) == (A_PARTICIPANT, False)


@pytest.mark.parametrize("perspective", list(Perspective))
def test_every_role_an_unnamed_author_is_shown_as_has_a_code_clients_translate(perspective: Perspective) -> None:
    shown = attribution(person(perspective), inside_network=False)
    assert author_role(shown.shown_as, shown.named) == perspective.value


def test_a_participant_and_a_former_member_have_codes_and_a_name_has_none() -> None:
    assert author_role(A_PARTICIPANT, named=False) == "participant"
    assert author_role(FORMER_MEMBER, named=False) == "former_member"
    assert author_role("Fatima el Amrani", named=True) is None
    assert author_role("a practitioner", named=True) is None  # someone may be called so: a name is a name
    assert author_role("a neighbourhood coach", named=False) is None  # another instance's words: shown as given
