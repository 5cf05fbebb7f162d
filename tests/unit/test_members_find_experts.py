"""Finding who knows what within one's own networks (members service, on SQLite migrated by Alembic)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from services.common.db import create_service_engine
from services.common.errors import PermissionDenied, ValidationFailed
from services.common.migrations import upgrade
from services.common.vocabulary import MembershipRole
from services.members import handlers
from services.members.domain import access
from services.members.schemas import FindExperts, JoinNetwork, RegisterMember, UpdateMember
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.callers import OPERATOR, member, partner
from tests.unit.fakes import FakeNetworkDirectory


@pytest.fixture
def uow(tmp_path: Path) -> Iterator[MembersUnitOfWork]:
    url = f"sqlite:///{tmp_path / 'members.db'}"
    upgrade("members", url)
    engine: Engine = create_service_engine(url, "members")
    yield MembersUnitOfWork(engine, producer="members")
    engine.dispose()


def person(uow: MembersUnitOfWork, name: str, *networks: str, **profile: Any) -> str:
    body = {"name": name, "email": f"{name.lower()}@example.org", "perspectives": ["practitioner"]} | profile
    member_id = handlers.register_member(OPERATOR, RegisterMember.model_validate(body), uow).id
    for network_id in networks:
        handlers.join_network(OPERATOR, member_id, network_id, JoinNetwork(role=MembershipRole.PARTICIPANT), uow,
                              FakeNetworkDirectory())
    return member_id


def find(uow: MembersUnitOfWork, caller: Any, **query: Any) -> list[str]:
    return [e.name for e in handlers.find_experts(caller, FindExperts.model_validate(query), uow).items]


def test_a_member_finds_only_consenting_experts_of_the_networks_they_belong_to(uow) -> None:
    asker = person(uow, "Asker", "noord")
    person(uow, "Anna", "noord", expertise=["wijkaanpak"], findable_by_expertise=True)
    person(uow, "Bram", "noord", expertise=["wijkaanpak"])  # did not consent: not identifiable at all
    person(uow, "Cees", "zuid", expertise=["wijkaanpak"], findable_by_expertise=True)  # another network
    person(uow, "Dirk", "noord", expertise=["armoede"], findable_by_expertise=True)
    caller = member(asker, member_of={"noord"})
    assert find(uow, caller, tag="wijkaanpak") == ["Anna"]
    assert find(uow, caller) == ["Anna", "Dirk"]


def test_an_expert_is_shown_without_an_email_address_and_with_the_shared_networks_only(uow) -> None:
    asker = person(uow, "Asker", "noord", "oost")
    anna = person(uow, "Anna", "noord", "zuid", expertise=["wijkaanpak"], findable_by_expertise=True,
                  organisation="Buurtteam")
    [found] = handlers.find_experts(member(asker, member_of={"noord", "oost"}), FindExperts(tag="wijkaanpak"),
                                    uow).items
    shown = found.model_dump()
    assert "email" not in shown and "anna@example.org" not in str(shown)
    assert shown["member_id"] == anna and shown["organisation"] == "Buurtteam"
    assert shown["network_ids"] == ["noord"]  # zuid is not the asker's: it is not said


def test_withdrawing_consent_or_erasure_removes_an_expert_from_the_search_at_once(uow) -> None:
    asker = person(uow, "Asker", "noord")
    anna = person(uow, "Anna", "noord", expertise=["wijkaanpak"], findable_by_expertise=True)
    bram = person(uow, "Bram", "noord", expertise=["wijkaanpak"], findable_by_expertise=True)
    caller = member(asker, member_of={"noord"})
    handlers.update_member(member(anna), anna, UpdateMember(findable_by_expertise=False), uow)
    handlers.erase_member(member(bram), bram, uow)
    assert find(uow, caller, tag="wijkaanpak") == []


def test_the_caller_is_not_among_the_experts_they_find(uow) -> None:
    anna = person(uow, "Anna", "noord", expertise=["wijkaanpak"], findable_by_expertise=True)
    assert find(uow, member(anna, member_of={"noord"}), tag="wijkaanpak") == []


def test_experts_come_in_pages_by_name(uow) -> None:
    asker = person(uow, "Asker", "noord")
    for name in ("Els", "Ada", "Cor", "Bo"):
        person(uow, name, "noord", expertise=["wijkaanpak"], findable_by_expertise=True)
    caller = member(asker, member_of={"noord"})
    first = handlers.find_experts(caller, FindExperts(tag="wijkaanpak", page_size=3), uow)
    assert [e.name for e in first.items] == ["Ada", "Bo", "Cor"]
    rest = handlers.find_experts(caller, FindExperts(tag="wijkaanpak", page_size=3,
                                                     page_token=first.next_page_token), uow)
    assert [e.name for e in rest.items] == ["Els"] and rest.next_page_token is None


def test_a_bad_page_token_is_a_validation_error_on_page_token(uow) -> None:
    asker = person(uow, "Asker", "noord")
    with pytest.raises(ValidationFailed) as raised:
        handlers.find_experts(member(asker, member_of={"noord"}), FindExperts(page_token="nonsense"), uow)
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("page_token", "valid_page_token")]


def test_naming_a_network_narrows_the_search_and_one_not_ones_own_is_refused(uow) -> None:
    asker = person(uow, "Asker", "noord", "oost")
    person(uow, "Anna", "noord", expertise=["wijkaanpak"], findable_by_expertise=True)
    person(uow, "Olga", "oost", expertise=["wijkaanpak"], findable_by_expertise=True)
    caller = member(asker, member_of={"noord", "oost"})
    assert find(uow, caller, network_id="oost") == ["Olga"]
    with pytest.raises(PermissionDenied):
        handlers.find_experts(caller, FindExperts(network_id="zuid"), uow)


def test_the_scope_of_an_expertise_search_by_caller() -> None:
    coordinator = member("k", administers={"noord"}, member_of={"noord"})
    assert access.expertise_scope(coordinator, None) == ["noord"]
    assert access.expertise_scope(member("f", facilitates={"oost"}), None) == ["oost"]
    assert access.expertise_scope(member("m"), None) == []  # in no network: finds no one
    assert access.expertise_scope(OPERATOR, None) is None
    assert access.expertise_scope(OPERATOR, "zuid") == ["zuid"]
    with pytest.raises(PermissionDenied):
        access.expertise_scope(partner("p", "noord"), None)  # partners search over gRPC


def test_a_member_in_no_network_finds_no_one(uow) -> None:
    loner = person(uow, "Loner")
    person(uow, "Anna", "noord", expertise=["wijkaanpak"], findable_by_expertise=True)
    assert find(uow, member(loner), tag="wijkaanpak") == []
