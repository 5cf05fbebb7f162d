"""Who knows what (``find_expertise``) on the members service's real repository (SQLite, migrated): only active
members who consented to be findable, by tag, by name, paged, and never their email address or id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from services.common.vocabulary import Perspective
from services.members import handlers
from services.members.domain import Member
from services.members.schemas import FindExpertise
from services.members.unit_of_work import MembersUnitOfWork

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("members")


def add(engine: Engine, name: str, expertise: list[str], *, findable: bool = True, erased: bool = False) -> None:
    member = Member.register(f"id-{name.lower().replace(' ', '-')}", now=T0, name=name,
                             email=f"{name.lower().replace(' ', '.')}@example.org", organisation="Buurtteam",
                             perspectives=[Perspective.PRACTITIONER], expertise=expertise,
                             findable_by_expertise=findable, named_in_shared_outputs=False)
    if erased:
        member.erase(now=T0)
    with MembersUnitOfWork(engine, producer="members") as uow:
        uow.members.add(member)
        uow.commit()


def find(engine: Engine, **query) -> dict:
    return handlers.find_expertise(FindExpertise(**query), MembersUnitOfWork(engine, producer="members")).model_dump(
        mode="json")


def test_only_active_members_who_consented_and_have_the_tag_are_found(engine):
    add(engine, "Fatima", ["eenzaamheid", "mantelzorg"])
    add(engine, "Joost", ["eenzaamheid"], findable=False)
    add(engine, "Karin", ["armoede"])
    add(engine, "Lotte", ["eenzaamheid"], erased=True)
    page = find(engine, tag="Eenzaamheid")
    assert page["items"] == [{"name": "Fatima", "organisation": "Buurtteam", "expertise": ["eenzaamheid", "mantelzorg"],
                              "perspectives": ["practitioner"]}]


def test_experts_come_by_name_page_by_page(engine):
    for name in ("Cas", "Anna", "Bram"):
        add(engine, name, ["wijkaanpak"])
    first = find(engine, tag="wijkaanpak", page_size=2)
    second = find(engine, tag="wijkaanpak", page_size=2, page_token=first["next_page_token"])
    assert [e["name"] for e in first["items"]] == ["Anna", "Bram"]
    assert ([e["name"] for e in second["items"]], second["next_page_token"]) == (["Cas"], None)


def test_a_tag_is_required_and_bounded():
    for tag in ("", "x" * 61, "#!"):
        with pytest.raises(ValidationError):
            FindExpertise(tag=tag)
