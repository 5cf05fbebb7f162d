"""MemberRepository and TokenRepository on SQLite, migrated by the real Alembic history."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from services.common.errors import Conflict, ValidationFailed
from services.common.vocabulary import MembershipRole, Perspective
from services.members import handlers
from services.members.domain import Member
from services.members.schemas import RegisterMember, SearchMembers
from services.members.unit_of_work import MembersUnitOfWork
from tests.support.callers import OPERATOR

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(migrated_engine: Callable[[str], Engine]) -> Engine:
    return migrated_engine("members")


def uow_on(engine: Engine) -> MembersUnitOfWork:
    return MembersUnitOfWork(engine, producer="members")


def add(engine: Engine, name: str, *, member_id: str | None = None,
        networks: dict[str, MembershipRole] | None = None, **profile: Any) -> Member:
    fields: dict[str, Any] = {"name": name, "email": f"{name.lower().replace(' ', '.')}@example.org",
                              "organisation": None, "perspectives": [Perspective.RESIDENT], "expertise": [],
                              "findable_by_expertise": False, "named_in_shared_outputs": False} | profile
    member = Member.register(member_id or f"id-{name.lower()}", now=T0, **fields)
    for network_id, role in (networks or {}).items():
        member.join(network_id, role, now=T0)
    with uow_on(engine) as uow:
        uow.members.add(member)
        uow.commit()
    return member


def search(engine: Engine, within: list[str] | None = None, **query: Any) -> tuple[list[str], str | None]:
    """``within``: the networks a coordinator's search stays in (the members service's access rule sets it)."""
    with uow_on(engine) as uow:
        found, token = uow.members.search(SearchMembers.model_validate(query), within)
    return [m.name for m in found], token


@pytest.fixture
def federation(engine: Engine) -> Engine:
    add(engine, "Anna", perspectives=[Perspective.LIVED_EXPERIENCE, Perspective.RESIDENT],
        expertise=["armoede"], organisation="Movisie", networks={"utrecht": MembershipRole.COORDINATOR})
    add(engine, "Bram", perspectives=[Perspective.PRACTITIONER], expertise=["armoede", "schulden"],
        organisation="Vilans", networks={"utrecht": MembershipRole.PARTICIPANT, "beteroud": MembershipRole.FACILITATOR})
    add(engine, "Cor", perspectives=[Perspective.RESEARCH], expertise=["schulden"], organisation="Movisie",
        networks={"beteroud": MembershipRole.PARTICIPANT})
    return engine


def test_a_member_loads_back_with_profile_and_memberships(engine: Engine) -> None:
    added = add(engine, "Anna", perspectives=[Perspective.RESIDENT, Perspective.VOLUNTEER],
                expertise=["armoede"], networks={"utrecht": MembershipRole.FACILITATOR})
    with uow_on(engine) as uow:
        loaded = uow.members.get(added.id)
        by_email = uow.members.get_by_email("anna@example.org")
    assert loaded is not None and by_email is not None and by_email.id == added.id
    assert (loaded.name, loaded.email, loaded.perspectives, loaded.expertise, loaded.revision) == (
        "Anna", "anna@example.org", [Perspective.RESIDENT, Perspective.VOLUNTEER], ["armoede"], 2)
    assert list(loaded.memberships) == ["utrecht"]
    assert loaded.memberships["utrecht"].role == MembershipRole.FACILITATOR
    assert loaded.events == []


def test_timestamps_load_back_as_the_same_aware_utc_instants(engine: Engine) -> None:
    """SQLite is the default store: a member read back must carry the instants it was saved with."""
    added = add(engine, "Anna", networks={"utrecht": MembershipRole.PARTICIPANT})
    with uow_on(engine) as uow:
        loaded = uow.members.get(added.id)
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None, "created_at came back naive"
    assert (loaded.created_at, loaded.updated_at, loaded.memberships["utrecht"].joined_at) == (T0, T0, T0)


def test_unknown_ids_and_emails_load_as_none(engine: Engine) -> None:
    with uow_on(engine) as uow:
        assert uow.members.get("nobody") is None
        assert uow.members.get_by_email("nobody@example.org") is None


def test_saving_replaces_memberships_and_search_tags(federation: Engine) -> None:
    with uow_on(federation) as uow:
        bram = uow.members.get("id-bram")
        assert bram is not None
        bram.leave("utrecht", now=T0 + timedelta(days=1))
        bram.update({"expertise": ["wonen"]}, now=T0 + timedelta(days=1))
        uow.members.save(bram)
        uow.commit()
    assert search(federation, network_id="utrecht")[0] == ["Anna"]
    assert search(federation, expertise="armoede")[0] == ["Anna"]
    assert search(federation, expertise="wonen")[0] == ["Bram"]


@pytest.mark.parametrize(("query", "names"), [
    ({}, ["Anna", "Bram", "Cor"]),
    ({"perspective": "lived_experience"}, ["Anna"]),
    ({"perspective": "resident"}, ["Anna"]),
    ({"expertise": "Armoede"}, ["Anna", "Bram"]),
    ({"organisation": "Movisie"}, ["Anna", "Cor"]),
    ({"network_id": "beteroud"}, ["Bram", "Cor"]),
    ({"within": ["utrecht", "beteroud"]}, ["Anna", "Bram", "Cor"]),
    ({"within": []}, []),
    ({"expertise": "schulden", "organisation": "Movisie"}, ["Cor"]),
    ({"network_id": "utrecht", "within": ["beteroud"]}, ["Bram"]),
    ({"perspective": "education"}, []),
], ids=lambda value: str(value))
def test_search_filters_by_perspective_expertise_organisation_and_network(
        federation: Engine, query: dict[str, Any], names: list[str]) -> None:
    assert search(federation, **query) == (names, None)


def test_keyset_paging_returns_every_member_exactly_once_in_name_order(engine: Engine) -> None:
    for name in ("Eva", "Bram", "Dirk", "Anna", "Cor"):
        add(engine, name)
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        names, token = search(engine, page_size=2, **({"page_token": token} if token else {}))
        seen += names
        pages += 1
        if token is None:
            break
    assert seen == ["Anna", "Bram", "Cor", "Dirk", "Eva"]
    assert pages == 3


def test_members_with_the_same_name_are_paged_by_id(engine: Engine) -> None:
    for n in (2, 0, 1):
        add(engine, "Sam", member_id=f"id-sam-{n}", email=f"sam{n}@example.org")
    ids: list[str] = []
    token: str | None = None
    with uow_on(engine) as uow:
        for _ in range(3):
            found, token = uow.members.search(SearchMembers(page_size=1, page_token=token))
            ids += [m.id for m in found]
    assert ids == ["id-sam-0", "id-sam-1", "id-sam-2"]
    assert token is None


@pytest.mark.parametrize("token", [
    "not base64 at all!",
    base64.urlsafe_b64encode(b"not json").decode(),
    base64.urlsafe_b64encode(b"[1, 2]").decode(),
    base64.urlsafe_b64encode(b'["only-one"]').decode(),
    base64.urlsafe_b64encode(b"42").decode(),
])
def test_an_invalid_page_token_is_a_validation_error_on_page_token(engine: Engine, token: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        search(engine, page_token=token)
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("page_token", "valid_page_token")]


def test_erased_members_are_not_in_search_results(federation: Engine) -> None:
    handlers.erase_member(OPERATOR, "id-anna", uow_on(federation))
    assert search(federation) == (["Bram", "Cor"], None)
    assert search(federation, organisation="Movisie") == (["Cor"], None)


def test_tokens_of_a_member_are_listed_oldest_first_and_revoked_ones_do_not_authenticate(engine: Engine) -> None:
    add(engine, "Anna")
    with uow_on(engine) as uow:
        uow.tokens.add("t-2", "id-anna", "b" * 64, "phone", T0 + timedelta(hours=1))
        uow.tokens.add("t-1", "id-anna", "a" * 64, "laptop", T0)
        assert uow.tokens.revoke("t-1", T0) is True
        assert uow.tokens.revoke("t-1", T0) is False  # already revoked
        uow.commit()
    with uow_on(engine) as uow:
        assert [t.token_id for t in uow.tokens.for_member("id-anna")] == ["t-1", "t-2"]
        assert uow.tokens.active("a" * 64, T0) is None
        active = uow.tokens.active("b" * 64, T0)
        assert active is not None and (active.member_id, active.via, active.expires_at) == ("id-anna", "operator", None)
        uow.tokens.revoke_all("id-anna", T0)
        assert uow.tokens.active("b" * 64, T0) is None
        assert uow.tokens.exists("t-2") and not uow.tokens.exists("t-3")


def test_a_token_works_until_the_moment_it_expires_and_keeps_how_it_was_issued(engine: Engine) -> None:
    add(engine, "Anna")
    expiry = T0 + timedelta(hours=8)
    with uow_on(engine) as uow:
        uow.tokens.add("s-1", "id-anna", "c" * 64, "console sign-in", T0, expires_at=expiry, via="sign-in",
                       operator=True)
        uow.commit()
    with uow_on(engine) as uow:
        active = uow.tokens.active("c" * 64, expiry - timedelta(microseconds=1))
        assert active is not None
        assert (active.token_id, active.expires_at, active.via, active.operator) == ("s-1", expiry, "sign-in", True)
        assert uow.tokens.active("c" * 64, expiry) is None
        assert uow.tokens.active("c" * 64, expiry + timedelta(days=1)) is None


def test_a_registration_racing_another_for_the_same_email_is_a_conflict(engine: Engine) -> None:
    """Two registrations both pass the ``get_by_email`` check; the unique index must decide, as a Conflict."""

    class RacingUnitOfWork(MembersUnitOfWork):
        def start(self, connection: Any) -> None:
            super().start(connection)
            self.members.get_by_email = lambda email: None  # the other registration committed after our check

    add(engine, "Anna")
    cmd = RegisterMember(name="Anna Too", email="anna@example.org", perspectives=[Perspective.RESIDENT])
    with pytest.raises(Conflict) as raised:
        handlers.register_member(OPERATOR, cmd, RacingUnitOfWork(engine, producer="members"))
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("email", "unique")]
