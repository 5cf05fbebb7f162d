"""Members' command and query handlers against the in-memory fakes."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.common.catalogue import MemberEvent
from services.common.errors import Conflict, NotFound, PermissionDenied, Unauthenticated
from services.common.events import parse_event, registered_events
from services.common.vocabulary import MembershipRole
from services.members import handlers
from services.members.schemas import (
    FindExpertise,
    IssueToken,
    JoinNetwork,
    MemberOut,
    RegisterMember,
    SearchMembers,
    SignIn,
    UpdateMember,
)
from tests.support.callers import OPERATOR, member
from tests.unit.fakes import FakeMembersUnitOfWork, FakeNetworkDirectory


@pytest.fixture
def uow() -> FakeMembersUnitOfWork:
    return FakeMembersUnitOfWork(correlation_id="corr-1")


def register(uow: FakeMembersUnitOfWork, **overrides: Any) -> MemberOut:
    request = {"name": "Anna de Vries", "email": "anna@example.org", "perspectives": ["resident"]} | overrides
    return handlers.register_member(OPERATOR, RegisterMember.model_validate(request), uow)


def join(uow: FakeMembersUnitOfWork, member_id: str, network_id: str, role: str = "participant") -> None:
    handlers.join_network(OPERATOR, member_id, network_id, JoinNetwork(role=MembershipRole(role)), uow,
                          FakeNetworkDirectory())


def test_registering_stores_the_email_lower_cased_and_records_member_registered(uow) -> None:
    member = register(uow, email="  Anna.de.Vries@Example.ORG ")
    assert member.email == "anna.de.vries@example.org"
    assert handlers.get_member(OPERATOR, member.id, uow).email == "anna.de.vries@example.org"
    assert uow.published_types() == ["member.registered"]
    assert uow.published[0].payload["member_id"] == member.id
    assert uow.published[0].correlation_id == "corr-1"


def test_registering_an_email_that_is_taken_in_another_case_is_a_conflict_on_email(uow) -> None:
    register(uow, email="anna@example.org")
    with pytest.raises(Conflict) as raised:
        register(uow, name="Other Anna", email="ANNA@example.org")
    assert [(v["field"], v["rule"]) for v in raised.value.violations] == [("email", "unique")]
    assert len(uow.members.rows) == 1
    assert uow.published_types() == ["member.registered"]


def test_updating_to_an_email_another_member_has_is_a_conflict_and_changes_nothing(uow) -> None:
    register(uow, email="anna@example.org")
    bram = register(uow, name="Bram", email="bram@example.org")
    with pytest.raises(Conflict) as raised:
        handlers.update_member(OPERATOR, bram.id, UpdateMember(email="Anna@Example.org"), uow)
    assert raised.value.violations[0]["field"] == "email"
    assert handlers.get_member(OPERATOR, bram.id, uow).email == "bram@example.org"


def test_updating_ones_own_email_to_itself_is_not_a_conflict(uow) -> None:
    anna = register(uow)
    assert handlers.update_member(OPERATOR, anna.id, UpdateMember(email="ANNA@example.org"), uow).revision == 1


def test_an_update_that_changes_nothing_records_no_event(uow) -> None:
    anna = register(uow, organisation="Movisie")
    before = len(uow.published)
    same = handlers.update_member(OPERATOR, anna.id, UpdateMember(name="Anna de Vries", organisation="Movisie"), uow)
    assert same.revision == anna.revision
    assert len(uow.published) == before


def test_an_update_is_stored_and_records_member_updated_with_the_new_revision(uow) -> None:
    anna = register(uow, organisation="Movisie")
    updated = handlers.update_member(OPERATOR, anna.id, UpdateMember.model_validate({"organisation": None}), uow)
    assert updated.organisation is None and updated.revision == 2
    assert handlers.get_member(OPERATOR, anna.id, uow).organisation is None
    assert uow.published_types()[-1] == "member.updated"
    assert uow.published[-1].payload["revision"] == 2


def test_updating_an_unknown_member_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.update_member(OPERATOR, "nobody", UpdateMember(name="X"), uow)


def test_joining_and_leaving_a_network_show_in_the_member_and_in_events(uow) -> None:
    anna = register(uow)
    join(uow, anna.id, "utrecht-armoede", "facilitator")
    held = handlers.get_member(OPERATOR, anna.id, uow).memberships
    assert [(m.network_id, m.role) for m in held] == [("utrecht-armoede", MembershipRole.FACILITATOR)]

    handlers.leave_network(OPERATOR, anna.id, "utrecht-armoede", uow)

    assert handlers.get_member(OPERATOR, anna.id, uow).memberships == []
    assert uow.published_types() == ["member.registered", "membership.joined", "membership.left"]


def test_leaving_a_network_one_is_not_in_is_not_found_and_commits_nothing(uow) -> None:
    anna = register(uow)
    commits = uow.committed
    with pytest.raises(NotFound):
        handlers.leave_network(OPERATOR, anna.id, "elsewhere", uow)
    assert uow.committed == commits


def test_export_holds_the_profile_tokens_and_the_events_about_the_member_only(uow) -> None:
    anna = register(uow)
    register(uow, name="Bram", email="bram@example.org")
    join(uow, anna.id, "utrecht-armoede")
    handlers.issue_token(OPERATOR, anna.id, IssueToken(label="laptop"), uow)

    export = handlers.export_member(OPERATOR, anna.id, uow)

    assert export.member.id == anna.id
    assert [t.label for t in export.tokens] == ["laptop"]
    assert [e.type for e in export.events] == ["member.registered", "membership.joined"]


def test_erasure_revokes_tokens_forgets_earlier_events_and_records_member_erased(uow) -> None:
    anna = register(uow)
    join(uow, anna.id, "utrecht-armoede")
    token = handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow).token

    receipt = handlers.erase_member(OPERATOR, anna.id, uow)

    assert receipt.member_id == anna.id
    assert [t.revoked_at for t in uow.tokens.for_member(anna.id)] == [receipt.erased_at]
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token(token), uow)
    assert [e["type"] for e in uow.events_about(anna.id)] == ["member.erased"]
    assert not any("anna" in str(e.payload).lower() for e in uow.published)
    with pytest.raises(NotFound):
        handlers.get_member(OPERATOR, anna.id, uow)


def test_erasing_twice_is_idempotent_and_returns_the_same_erased_at(uow) -> None:
    anna = register(uow)
    first = handlers.erase_member(OPERATOR, anna.id, uow)
    commits, published = uow.committed, list(uow.published)

    second = handlers.erase_member(OPERATOR, anna.id, uow)

    assert second == first
    assert uow.committed == commits
    assert uow.published == published


def test_erasing_an_unknown_member_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.erase_member(OPERATOR, "nobody", uow)


def test_only_the_sha256_of_an_issued_token_is_stored(uow) -> None:
    anna = register(uow)
    issued = handlers.issue_token(OPERATOR, anna.id, IssueToken(label="cli"), uow)
    (stored,) = uow.tokens.rows.values()
    assert issued.token.startswith(handlers.TOKEN_PREFIX)
    assert stored.token_hash == hashlib.sha256(issued.token.encode()).hexdigest()
    assert issued.token not in repr(uow.tokens.rows)
    assert uow.published_types() == ["member.registered"]  # tokens are not events


def test_authenticating_with_a_token_hash_names_the_networks_administered_and_facilitated(uow) -> None:
    anna = register(uow)
    join(uow, anna.id, "wijk-noord", "coordinator")
    join(uow, anna.id, "utrecht-armoede", "facilitator")
    join(uow, anna.id, "beteroud", "participant")
    token = handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow).token

    principal = handlers.authenticate(hashlib.sha256(token.encode()).hexdigest(), uow)

    assert principal.member_id == anna.id
    assert principal.administers == ["wijk-noord"]
    assert principal.facilitates == ["utrecht-armoede"]


def test_a_revoked_token_is_unauthenticated(uow) -> None:
    anna = register(uow)
    issued = handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow)
    handlers.revoke_token(OPERATOR, issued.token_id, uow)
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token(issued.token), uow)


def test_revoking_a_token_records_token_revoked_once_so_every_gateway_forgets_it(uow) -> None:
    anna = register(uow)
    issued = handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow)
    handlers.revoke_token(OPERATOR, issued.token_id, uow)
    handlers.revoke_token(OPERATOR, issued.token_id, uow)  # again: nothing changes, nothing is recorded
    revoked = [e.payload for e in uow.published if e.type == "token.revoked"]
    assert revoked == [{"member_id": anna.id, "token_id": issued.token_id}]


def test_an_erased_members_token_is_unauthenticated_even_if_not_revoked(uow) -> None:
    anna = register(uow)
    token = handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow).token
    uow.members.rows[anna.id].erase(now=datetime.now(UTC))  # erased by some path that forgot the tokens
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token(token), uow)


def test_an_unknown_token_is_unauthenticated(uow) -> None:
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token("krm_never-issued"), uow)


def test_revoking_an_unknown_token_is_not_found(uow) -> None:
    with pytest.raises(NotFound):
        handlers.revoke_token(OPERATOR, "no-such-token", uow)


def test_issuing_a_token_for_an_erased_member_is_not_found(uow) -> None:
    anna = register(uow)
    handlers.erase_member(OPERATOR, anna.id, uow)
    with pytest.raises(NotFound):
        handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow)


def test_search_returns_matching_members_in_pages(uow) -> None:
    for name in ("Cor", "Anna", "Bram"):
        register(uow, name=name, email=f"{name.lower()}@example.org")
    first = handlers.search_members(OPERATOR, SearchMembers(page_size=2), uow)
    rest = handlers.search_members(OPERATOR, SearchMembers(page_size=2, page_token=first.next_page_token), uow)
    assert [m.name for m in first.items + rest.items] == ["Anna", "Bram", "Cor"]
    assert rest.next_page_token is None


def test_find_expertise_pages_by_name_through_active_members_who_consented_and_have_the_tag(uow) -> None:
    for name in ("Cor", "Anna", "Bram"):
        register(uow, name=name, email=f"{name.lower()}@example.org", expertise=["Wijkaanpak"],
                 findable_by_expertise=True)
    register(uow, name="Daan", email="daan@example.org", expertise=["wijkaanpak"])  # did not consent
    register(uow, name="Eva", email="eva@example.org", expertise=["armoede"], findable_by_expertise=True)
    erased = register(uow, name="Fem", email="fem@example.org", expertise=["wijkaanpak"], findable_by_expertise=True)
    handlers.erase_member(OPERATOR, erased.id, uow)
    first = handlers.find_expertise(FindExpertise(tag="wijkaanpak", page_size=2), uow)
    rest = handlers.find_expertise(FindExpertise(tag="wijkaanpak", page_size=2, page_token=first.next_page_token), uow)
    assert [e.name for e in first.items + rest.items] == ["Anna", "Bram", "Cor"]
    assert rest.next_page_token is None


def test_health_pings_the_database(uow) -> None:
    assert handlers.health(uow).database == "ok"
    assert uow.pings == 1


def test_every_event_the_handlers_record_validates_against_the_catalogue(uow) -> None:
    anna = register(uow, expertise=["Armoede"], organisation="Movisie")
    handlers.update_member(OPERATOR, anna.id, UpdateMember(findable_by_expertise=True), uow)
    join(uow, anna.id, "utrecht-armoede", "coordinator")
    handlers.leave_network(OPERATOR, anna.id, "utrecht-armoede", uow)
    handlers.revoke_token(OPERATOR, handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow).token_id, uow)
    bram = register(uow, name="Bram", email="bram@example.org")
    handlers.erase_member(OPERATOR, bram.id, uow)

    for envelope in uow.published:
        parsed, payload = parse_event(envelope.to_wire())
        assert parsed == envelope
        assert payload.model_dump(mode="json") == envelope.payload
    member_events = {t for (t, _), m in registered_events().items() if issubclass(m, MemberEvent)}
    assert set(uow.published_types()) == member_events


def test_joining_an_unknown_network_is_not_found_and_changes_nothing(uow) -> None:
    member = register(uow)
    with pytest.raises(NotFound):
        handlers.join_network(OPERATOR, member.id, "nowhere", JoinNetwork(), uow,
                              FakeNetworkDirectory(open_networks=set()))
    assert handlers.get_member(OPERATOR, member.id, uow).memberships == []
    assert uow.published_types() == ["member.registered"]


def test_joining_an_archived_network_is_a_conflict(uow) -> None:
    member = register(uow)
    with pytest.raises(Conflict):
        handlers.join_network(OPERATOR, member.id, "old", JoinNetwork(), uow, FakeNetworkDirectory(archived={"old"}))


# --- who may: each handler checks the caller where it loads the member --------------------------------------------


def test_a_coordinator_sees_the_members_of_their_network_and_no_one_else(uow) -> None:
    inside, outside = register(uow, email="in@example.org"), register(uow, email="out@example.org")
    join(uow, inside.id, "n-wijk")
    join(uow, outside.id, "n-elders")
    coordinator = member("c-1", administers={"n-wijk"})
    assert handlers.get_member(coordinator, inside.id, uow).id == inside.id
    with pytest.raises(PermissionDenied):
        handlers.get_member(coordinator, outside.id, uow)


def test_a_refused_consent_change_changes_nothing_and_records_nothing(uow) -> None:
    anna = register(uow, named_in_shared_outputs=True)
    join(uow, anna.id, "n-wijk")
    before = uow.published_types()
    coordinator = member("c-1", administers={"n-wijk"})  # may edit her profile, not her consent
    with pytest.raises(PermissionDenied):
        handlers.update_member(coordinator, anna.id, UpdateMember(named_in_shared_outputs=False), uow)
    assert handlers.get_member(OPERATOR, anna.id, uow).named_in_shared_outputs is True
    assert uow.published_types() == before


def test_a_facilitator_may_not_add_people_to_their_own_network(uow) -> None:
    anna = register(uow)
    facilitator = member("f-1", facilitates={"n-wijk"}, member_of={"n-wijk"})
    with pytest.raises(PermissionDenied):
        handlers.join_network(facilitator, anna.id, "n-wijk", JoinNetwork(role=MembershipRole.PARTICIPANT), uow,
                              FakeNetworkDirectory())
    assert handlers.get_member(OPERATOR, anna.id, uow).memberships == []
    assert uow.published_types() == ["member.registered"]


# --- sign-in: a token for a verified e-mail address, expiring; signing out -----------------------------------


def sign_in(uow: FakeMembersUnitOfWork, email: str = "anna@example.org", **fields: Any) -> Any:
    return handlers.sign_in(SignIn.model_validate({"email": email, **fields}), uow)


def test_a_sign_in_issues_an_expiring_token_for_the_active_member_with_that_address_in_any_case(uow) -> None:
    anna = register(uow)
    before = datetime.now(UTC)
    signed = sign_in(uow, "ANNA@Example.org", ttl_seconds=600)
    assert (signed.member_id, signed.operator) == (anna.id, False)
    assert before + timedelta(seconds=600) <= signed.expires_at <= datetime.now(UTC) + timedelta(seconds=600)
    (stored,) = uow.tokens.rows.values()
    assert (stored.via, stored.label, stored.operator, stored.expires_at) == (
        "sign-in", "console sign-in", False, signed.expires_at)
    assert stored.token_hash == handlers.hash_token(signed.token) and signed.token not in repr(uow.tokens.rows)
    principal = handlers.authenticate(handlers.hash_token(signed.token), uow)
    assert (principal.token_id, principal.expires_at, principal.operator) == (signed.token_id, signed.expires_at,
                                                                              False)


def test_a_sign_in_the_gateway_marks_as_an_operators_is_stored_and_authenticated_with_the_operators_authority(
        uow) -> None:
    register(uow)
    signed = sign_in(uow, operator=True)
    assert signed.operator is True
    assert handlers.authenticate(handlers.hash_token(signed.token), uow).operator is True


def test_a_sign_in_is_audited_as_the_members_own_with_how_and_never_the_address(uow) -> None:
    anna = register(uow)
    signed = sign_in(uow)
    (entry,) = [row for row in uow.audit.rows if row["action"] == "token.issued"]
    assert entry["actor"][0] == "member" and uow.audit.shown(entry["actor"][1]) == anna.id
    assert entry["detail"] == {"token_id": signed.token_id, "via": "sign-in", "operator": False}
    assert "anna@example.org" not in repr(uow.audit.rows)


@pytest.mark.parametrize("case", ["unknown", "erased"])
def test_a_sign_in_with_an_address_no_active_member_has_is_not_found_on_email_and_issues_nothing(uow, case) -> None:
    anna = register(uow)
    if case == "erased":
        handlers.erase_member(OPERATOR, anna.id, uow)
    with pytest.raises(NotFound) as refused:
        sign_in(uow, "anna@example.org" if case == "erased" else "nobody@example.org")
    assert [(v["field"], v["rule"]) for v in refused.value.violations] == [("email", "active_member")]
    assert uow.tokens.rows == {}


def test_an_expired_token_is_unauthenticated(uow) -> None:
    anna = register(uow)
    issued = handlers.issue_token(OPERATOR, anna.id, IssueToken(ttl_seconds=60), uow)
    uow.tokens.rows[issued.token_id].expires_at = datetime.now(UTC) - timedelta(seconds=1)
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token(issued.token), uow)


def test_a_token_the_operator_issues_expires_only_when_asked_to(uow) -> None:
    anna = register(uow)
    assert handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow).expires_at is None
    timed = handlers.issue_token(OPERATOR, anna.id, IssueToken(ttl_seconds=3600), uow)
    assert timed.expires_at is not None and timed.via == "operator"
    assert timed.expires_at - timed.created_at == timedelta(hours=1)


def test_a_member_signs_out_by_revoking_their_own_token(uow) -> None:
    anna = register(uow)
    signed = sign_in(uow)
    handlers.revoke_token(member(anna.id), signed.token_id, uow)
    with pytest.raises(Unauthenticated):
        handlers.authenticate(handlers.hash_token(signed.token), uow)
    (entry,) = [row for row in uow.audit.rows if row["action"] == "token.revoked"]
    assert uow.audit.shown(entry["actor"][1]) == anna.id


def test_a_member_may_not_revoke_another_members_token(uow) -> None:
    anna, bram = register(uow), register(uow, name="Bram", email="bram@example.org")
    issued = handlers.issue_token(OPERATOR, anna.id, IssueToken(), uow)
    with pytest.raises(PermissionDenied, match="your own"):
        handlers.revoke_token(member(bram.id), issued.token_id, uow)
    assert handlers.authenticate(handlers.hash_token(issued.token), uow).member_id == anna.id
