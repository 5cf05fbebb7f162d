"""Each audited command records one entry with the change, naming who acted, for whom and on what, with the call's
correlation id; a refused command records nothing; erasing a member leaves their entries leading nowhere. The
members service against its fakes, the federation service on a migrated SQLite database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.common.audit import AuditEntry, AuditQuery, SubjectOut
from services.common.caller import Caller
from services.common.errors import PermissionDenied
from services.federation.handlers import links, queries
from services.federation.partners import handlers as partners
from services.federation.schemas import AcceptLink, BlockSubject, RegisterPartner, SetLinkPolicy
from services.members import handlers
from services.members.schemas import IssueToken, MemberOut, RegisterMember
from tests.support.callers import OPERATOR, member
from tests.unit.fakes import FakeMembersUnitOfWork
from tests.unit.test_federation_world import World, open_world, policy

# --- members ---------------------------------------------------------------------------------------------------


@pytest.fixture
def uow() -> FakeMembersUnitOfWork:
    return FakeMembersUnitOfWork(correlation_id="corr-1")


def register(uow: FakeMembersUnitOfWork, email: str = "anna@example.org") -> MemberOut:
    request = {"name": "Anna de Vries", "email": email, "perspectives": ["resident"]}
    return handlers.register_member(OPERATOR, RegisterMember.model_validate(request), uow)


def test_issuing_a_token_records_the_operator_the_member_the_token_id_and_the_correlation_id(uow) -> None:
    anna = register(uow)
    uow.request_id = "req-7"
    issued = handlers.issue_token(OPERATOR, anna.id, IssueToken(label="laptop"), uow)
    [row] = uow.audit.rows
    assert (row["action"], row["actor"], row["detail"], row["correlation_id"], row["request_id"]) == (
        "token.issued", ("operator", None), {"token_id": issued.token_id, "via": "operator"}, "corr-1", "req-7")
    kind, ref = row["target"]
    assert (kind, uow.audit.shown(ref)) == ("member", anna.id)
    assert ref != anna.id and issued.token not in str(row) and "laptop" not in str(row)


def test_a_refused_token_command_records_nothing(uow) -> None:
    anna = register(uow)
    with pytest.raises(PermissionDenied):
        handlers.issue_token(member(anna.id), anna.id, IssueToken(label="mine"), uow)
    assert uow.audit.rows == []


def test_revoking_a_token_records_it_once(uow) -> None:
    anna = register(uow)
    issued = handlers.issue_token(OPERATOR, anna.id, IssueToken(label="laptop"), uow)
    handlers.revoke_token(OPERATOR, issued.token_id, uow)
    handlers.revoke_token(OPERATOR, issued.token_id, uow)  # already revoked: nothing changes, nothing recorded
    assert [(r["action"], r["detail"]) for r in uow.audit.rows] == [
        ("token.issued", {"token_id": issued.token_id, "via": "operator"}),
        ("token.revoked", {"token_id": issued.token_id})]


def test_an_export_by_the_member_records_them_as_actor_and_target(uow) -> None:
    anna = register(uow)
    handlers.export_member(member(anna.id), anna.id, uow)
    [row] = uow.audit.rows
    assert row["action"] == "member.exported"
    assert [uow.audit.shown(r) for _, r in (row["actor"], row["target"])] == [anna.id, anna.id]


def test_a_refused_export_records_nothing(uow) -> None:
    anna, bob = register(uow), register(uow, "bob@example.org")
    with pytest.raises(PermissionDenied):
        handlers.export_member(member(bob.id), anna.id, uow)
    assert uow.audit.rows == []


def test_erasing_a_member_records_it_and_leaves_none_of_their_entries_leading_to_them(uow) -> None:
    anna = register(uow)
    handlers.issue_token(OPERATOR, anna.id, IssueToken(label="laptop"), uow)
    handlers.export_member(member(anna.id), anna.id, uow)
    handlers.erase_member(OPERATOR, anna.id, uow)
    assert [r["action"] for r in uow.audit.rows] == ["token.issued", "member.exported", "member.erased"]
    refs = [ref for r in uow.audit.rows for kind, ref in (r["actor"], r["target"]) if kind == "member"]
    assert refs and all(uow.audit.shown(ref) is None for ref in refs)
    assert anna.id not in str(uow.audit.rows)


def test_an_operators_sign_in_is_recorded_as_the_operator_with_the_person_by_reference_until_they_are_erased(
    uow,
) -> None:
    anna, olga = register(uow), register(uow, "olga@example.org")
    signed_in_operator = Caller(kind="operator", member_id=olga.id)  # what the gateway makes of such a token
    handlers.issue_token(signed_in_operator, anna.id, IssueToken(label="laptop"), uow)
    [row] = uow.audit.rows
    kind, ref = row["actor"]
    assert (kind, uow.audit.shown(ref)) == ("operator", olga.id)
    assert olga.id not in str(row) and "olga@example.org" not in str(row)
    handlers.erase_member(OPERATOR, olga.id, uow)
    assert uow.audit.shown(ref) is None


# --- federation ------------------------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from open_world(tmp_path)


def entries(world: World, **query: str) -> list[AuditEntry]:
    return queries.audit_entries(OPERATOR, AuditQuery.model_validate(query), world.uow).items


def test_a_coordinator_accepting_a_link_is_recorded_acting_for_the_asked_network(world) -> None:
    world.networks("a", "b")
    requested = world.request("a", "b")
    world.uow.correlation_id = "corr-link"
    links.accept_link(member("coordinator-b", administers=["b"]), requested.link_id, AcceptLink(), world.uow)
    [entry] = entries(world)
    assert (entry.action, entry.actor, entry.on_behalf_of, entry.target, entry.correlation_id) == (
        "link.accepted", SubjectOut(kind="member", id="coordinator-b"), SubjectOut(kind="network", id="b"),
        SubjectOut(kind="link", id=requested.link_id), "corr-link")
    assert entry.detail == {"status": "active", "requester_network_id": "a", "target_network_id": "b"}


def test_a_refused_acceptance_records_nothing(world) -> None:
    world.networks("a", "b")
    requested = world.request("a", "b")
    with pytest.raises(PermissionDenied):
        links.accept_link(member("coordinator-a", administers=["a"]), requested.link_id, AcceptLink(), world.uow)
    assert entries(world) == []


def test_policy_changes_revocations_and_blocks_are_recorded_without_the_reason_typed(world) -> None:
    world.networks("a", "b")
    link = world.link("a", "b")
    links.set_link_policy(member("c-a", administers=["a"]), link.link_id,
                          SetLinkPolicy(network_id="a", policy=policy("linked", themes=["armoede"])), world.uow)
    links.revoke_link(OPERATOR, link.link_id, world.uow)
    links.block_network(OPERATOR, "b", BlockSubject(reason="stuurde spam naar mevrouw Jansen"), world.uow,
                        world.lookup)
    found = entries(world)
    assert [e.action for e in found] == ["network.blocked", "link.revoked", "link.policy_set", "link.accepted"]
    assert found[2].on_behalf_of == SubjectOut(kind="network", id="a")
    assert (found[2].detail["visibilities"], found[2].detail["themes_count"]) == (["linked"], 1)
    assert "Jansen" not in str([e.model_dump() for e in found]) and "armoede" not in str(found[2])


def test_registering_and_blocking_a_partner_are_recorded(world) -> None:
    world.networks("a")
    key = partners.register_partner(OPERATOR, RegisterPartner(name="Movisie", network_ids=["a"]), world.uow,
                                    world.lookup)
    partners.block_partner(OPERATOR, key.partner_id, BlockSubject(reason="misbruik"), world.uow)
    found = entries(world, target_id=key.partner_id)
    assert [(e.action, e.detail.get("network_ids")) for e in found] == [
        ("partner.blocked", ["a"]), ("partner.registered", ["a"])]
    assert key.api_key not in str([e.model_dump() for e in found]) and "Movisie" not in str(found)


def test_a_link_revoked_by_an_operators_sign_in_reads_back_as_the_operator_and_the_person(world) -> None:
    world.networks("a", "b")
    link = world.link("a", "b")
    links.revoke_link(Caller(kind="operator", member_id="olga"), link.link_id, world.uow)
    [entry] = entries(world, target_id=link.link_id)[:1]
    assert entry.actor == SubjectOut(kind="operator", person=SubjectOut(kind="member", id="olga"))
    world.erase("olga")
    [entry] = entries(world, target_id=link.link_id)[:1]
    assert entry.actor == SubjectOut(kind="operator", person=SubjectOut(kind="member", id=None, erased=True))


def test_the_erasure_event_leaves_the_federations_entries_about_the_member_leading_nowhere(world) -> None:
    world.networks("a", "b")
    requested = world.request("a", "b")
    links.accept_link(member("coordinator-b", administers=["b"]), requested.link_id, AcceptLink(), world.uow)
    world.erase("coordinator-b")
    [entry] = entries(world)
    assert entry.actor == SubjectOut(kind="member", id=None, erased=True)
    assert entry.target == SubjectOut(kind="link", id=requested.link_id)


# --- between instances ---------------------------------------------------------------------------------------------


def test_an_answer_followed_from_another_instance_is_recorded_as_the_relay_acting_for_that_instance(world) -> None:
    from services.federation.peers import links as peer_links
    from services.federation.peers.schemas import RemoteLink
    from tests.unit.test_federation_peers import PEER, ask, follow, register_instance

    world.networks("y")
    register_instance(world)
    follow(world)
    start = ask(world)
    peer_links.attach_peer_link(start.link.link_id, PEER, RemoteLink(link_id="r", status="requested"), world.uow)
    peer_links.follow_peer_link(start.link.link_id, RemoteLink(link_id="r", status="active"), world.uow)
    peer_links.follow_peer_link(start.link.link_id, RemoteLink(link_id="r", status="active"), world.uow)  # no change
    found = entries(world, target_id=start.link.link_id)
    assert [(e.action, e.actor, e.on_behalf_of, e.detail["from_peer"]) for e in found] == [
        ("link.accepted", SubjectOut(kind="service", id="relay"), SubjectOut(kind="instance", id=PEER), True)]
    assert [e.action for e in entries(world)] == ["link.accepted", "peer.configured", "partner.registered"]


def test_a_request_the_other_instance_refused_is_recorded_as_withdrawn_here(world) -> None:
    from services.federation.peers import links as peer_links
    from tests.unit.test_federation_peers import PEER, ask, follow, register_instance

    world.networks("y")
    register_instance(world)
    follow(world)
    start = ask(world)
    peer_links.abandon_peer_link(start.link.link_id, world.uow)
    [entry] = entries(world, target_id=start.link.link_id)
    assert (entry.action, entry.actor, entry.on_behalf_of, entry.detail["status"]) == (
        "link.revoked", SubjectOut(kind="service", id="federation"), SubjectOut(kind="instance", id=PEER), "revoked")
