"""Command and query handlers: load through the unit of work, apply the domain, commit. A few lines each."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.common.errors import NotFound, Unauthenticated
from services.members.adapters import NetworkDirectory
from services.members.domain import Member, email_taken
from services.members.schemas import (
    ErasureReceipt,
    EventRecord,
    ExpertOut,
    ExpertPage,
    FindExpertise,
    IssueToken,
    JoinNetwork,
    MemberExport,
    MemberOut,
    MemberPage,
    MembershipOut,
    Principal,
    RegisterMember,
    SearchMembers,
    ServiceHealth,
    TokenIssued,
    UpdateMember,
)

TOKEN_PREFIX = "krm_"  # noqa: S105 - a visible prefix, not a secret


def now() -> datetime:
    return datetime.now(UTC)


def register_member(cmd: RegisterMember, uow: Any) -> MemberOut:
    with uow:
        if uow.members.get_by_email(cmd.email):
            raise email_taken(cmd.email)
        member = Member.register(str(uuid.uuid4()), now=now(), **cmd.model_dump())
        with _unique_email(cmd.email):
            uow.members.add(member)
            uow.commit()
        return member_view(member)


def update_member(member_id: str, cmd: UpdateMember, uow: Any) -> MemberOut:
    with uow:
        member = _get_active(uow, member_id)
        if cmd.email and cmd.email != member.email and uow.members.get_by_email(cmd.email):
            raise email_taken(cmd.email)
        member.update(cmd.changes(), now=now())
        with _unique_email(member.email):
            uow.members.save(member)
            uow.commit()
        return member_view(member)


def get_member(member_id: str, uow: Any) -> MemberOut:
    with uow:
        return member_view(_get_active(uow, member_id))


def search_members(query: SearchMembers, uow: Any) -> MemberPage:
    with uow:
        found, next_token = uow.members.search(query)
        return MemberPage(items=[member_view(m) for m in found], next_page_token=next_token)


def find_expertise(query: FindExpertise, uow: Any) -> ExpertPage:
    """Active members who consented to be found, with the tag among their expertise; by name, paged."""
    with uow:
        found, next_token = uow.members.findable_by_expertise(query.tag, query.page_size, query.page_token)
        return ExpertPage(items=[ExpertOut(name=m.name, organisation=m.organisation, expertise=m.expertise,
                                           perspectives=m.perspectives) for m in found],
                          next_page_token=next_token)


def join_network(member_id: str, network_id: str, cmd: JoinNetwork, uow: Any,
                 networks: NetworkDirectory) -> MembershipOut:
    with uow:
        member = _get_active(uow, member_id)
        networks.ensure_open(network_id)
        membership = member.join(network_id, cmd.role, now=now())
        uow.members.save(member)
        uow.commit()
        return MembershipOut(network_id=membership.network_id, role=membership.role, joined_at=membership.joined_at)


def leave_network(member_id: str, network_id: str, uow: Any) -> None:
    with uow:
        member = _get_active(uow, member_id)
        member.leave(network_id, now=now())
        uow.members.save(member)
        uow.commit()


def export_member(member_id: str, uow: Any) -> MemberExport:
    with uow:
        member = _get_active(uow, member_id)
        events = [EventRecord(type=e["type"], occurred_at=e["occurred_at"]) for e in uow.events_about(member_id)]
        return MemberExport(exported_at=now(), member=member_view(member), tokens=uow.tokens.for_member(member_id),
                            events=events)


def erase_member(member_id: str, uow: Any) -> ErasureReceipt:
    """Pseudonymise the member, revoke their tokens and drop earlier events that carry their data."""
    with uow:
        member = uow.members.get(member_id)
        if member is None:
            raise NotFound(f"member {member_id} not found")
        if not member.erased:
            moment = now()
            member.erase(now=moment)
            uow.members.save(member)
            uow.tokens.revoke_all(member_id, moment)
            uow.forget_events_about(member_id)
            uow.forget_answers_about(member_id)
            uow.commit()
        assert member.erased_at is not None
        return ErasureReceipt(member_id=member.id, erased_at=member.erased_at)


def issue_token(member_id: str, cmd: IssueToken, uow: Any) -> TokenIssued:
    with uow:
        _get_active(uow, member_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = uow.tokens.add(str(uuid.uuid4()), member_id, hash_token(token), cmd.label, now())
        uow.commit()
        return TokenIssued(token=token, **info.model_dump())


def revoke_token(token_id: str, uow: Any) -> None:
    with uow:
        if not uow.tokens.exists(token_id):
            raise NotFound(f"token {token_id} not found")
        uow.tokens.revoke(token_id, now())
        uow.commit()


def authenticate(token_hash: str, uow: Any) -> Principal:
    """Who holds the token with this hash, which networks they belong to, administer and facilitate."""
    with uow:
        member_id = uow.tokens.member_of_active_token(token_hash)
        member = uow.members.get(member_id) if member_id else None
        if member is None or member.erased:
            raise Unauthenticated("unknown or revoked token")
        return Principal(member_id=member.id, administers=member.administers(), facilitates=member.facilitates(),
                         member_of=sorted(member.memberships))


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash suffices; what matters is that only the hash is stored.
    return hashlib.sha256(token.encode()).hexdigest()


def member_view(member: Member) -> MemberOut:
    return MemberOut(
        id=member.id, name=member.name, email=member.email, organisation=member.organisation,
        perspectives=member.perspectives, expertise=member.expertise,
        findable_by_expertise=member.findable_by_expertise, named_in_shared_outputs=member.named_in_shared_outputs,
        memberships=[MembershipOut(network_id=m.network_id, role=m.role, joined_at=m.joined_at)
                     for m in sorted(member.memberships.values(), key=lambda m: m.network_id)],
        created_at=member.created_at, updated_at=member.updated_at, revision=member.revision,
    )


def _get_active(uow: Any, member_id: str) -> Member:
    member = uow.members.get(member_id)
    if member is None or member.erased:
        raise NotFound(f"member {member_id} not found")
    return member


@contextmanager
def _unique_email(email: str) -> Iterator[None]:
    """A concurrent registration of the same address loses on the database's unique index: a Conflict."""
    try:
        yield
    except IntegrityError as exc:
        raise email_taken(email) from exc


def health(uow: Any) -> ServiceHealth:
    with uow:
        uow.ping()
        return ServiceHealth(service="members", database="ok")
