"""A member's record: registering, updating, reading, searching, export and erasure."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from services.common.audit import Subject
from services.common.caller import Caller, require
from services.common.errors import NotFound
from services.members.domain import Member, access, email_taken
from services.members.handlers.question_views import question_view
from services.members.ports import MembersUoW
from services.members.schemas import (
    ErasureReceipt,
    EventRecord,
    ExpertOut,
    ExpertPage,
    FindExpertise,
    FindExperts,
    MemberExport,
    MemberOut,
    MemberPage,
    MembershipOut,
    NetworkExpertOut,
    NetworkExpertPage,
    RegisterMember,
    SearchMembers,
    ServiceHealth,
    UpdateMember,
)


def now() -> datetime:
    return datetime.now(UTC)


def register_member(caller: Caller, cmd: RegisterMember, uow: MembersUoW) -> MemberOut:
    require(access.can_register_member(caller), "registering members needs a coordinator's or the operator's token")
    with uow:
        if uow.members.get_by_email(cmd.email):
            raise email_taken(cmd.email)
        member = Member.register(
            str(uuid.uuid4()), now=now(), name=cmd.name, email=cmd.email, organisation=cmd.organisation,
            perspectives=cmd.perspectives, expertise=cmd.expertise, findable_by_expertise=cmd.findable_by_expertise,
            named_in_shared_outputs=cmd.named_in_shared_outputs,
        )
        with _unique_email(cmd.email):
            uow.members.add(member)
            uow.commit()
        return member_view(member)


def update_member(caller: Caller, member_id: str, cmd: UpdateMember, uow: MembersUoW) -> MemberOut:
    with uow:
        member = active_member(uow, member_id)
        require(access.can_edit_profile(caller, member_id, member.memberships))
        if access.touches_consent(cmd.model_fields_set):
            require(access.can_change_consent(caller, member_id), "only the member may change their consent")
        if cmd.email and cmd.email != member.email and uow.members.get_by_email(cmd.email):
            raise email_taken(cmd.email)
        member.update(cmd.changes(), now=now())
        with _unique_email(member.email):
            uow.members.save(member)
            uow.commit()
        return member_view(member)


def get_member(caller: Caller, member_id: str, uow: MembersUoW) -> MemberOut:
    with uow:
        member = active_member(uow, member_id)
        require(access.can_view_member(caller, member_id, member.memberships))
        return member_view(member)


def search_members(caller: Caller, query: SearchMembers, uow: MembersUoW) -> MemberPage:
    within = access.search_scope(caller, query.network_id)
    with uow:
        found, next_token = uow.members.search(query, within)
        return MemberPage(items=[member_view(m) for m in found], next_page_token=next_token)


def find_expertise(query: FindExpertise, uow: MembersUoW) -> ExpertPage:
    """Active members who consented to be found, with the tag among their expertise; by name, paged."""
    with uow:
        found, next_token = uow.members.findable_by_expertise(query.tag, query.page_size, query.page_token)
        return ExpertPage(items=[ExpertOut(name=m.name, organisation=m.organisation, expertise=m.expertise,
                                           perspectives=m.perspectives) for m in found],
                          next_page_token=next_token)


def find_experts(caller: Caller, query: FindExperts, uow: MembersUoW) -> NetworkExpertPage:
    """Who knows what within the caller's networks: members who consented to be found, never an email address;
    the caller themself is not among them."""
    within = access.expertise_scope(caller, query.network_id)
    with uow:
        found, next_token = uow.members.findable_experts(query, within, caller.member_id)
        return NetworkExpertPage(items=[expert_view(m, within) for m in found], next_page_token=next_token)


def expert_view(member: Member, within: list[str] | None) -> NetworkExpertOut:
    shared = sorted(n for n in member.memberships if within is None or n in within)
    return NetworkExpertOut(member_id=member.id, name=member.name, organisation=member.organisation,
                            expertise=member.expertise, perspectives=member.perspectives, network_ids=shared)


def export_member(caller: Caller, member_id: str, uow: MembersUoW) -> MemberExport:
    require(access.owns_personal_data(caller, member_id), "only the member or the operator may export")
    with uow:
        member = active_member(uow, member_id)
        events = [EventRecord(type=e["type"], occurred_at=e["occurred_at"]) for e in uow.events_about(member_id)]
        questions = [question_view(q, member_id, uow) for q in uow.questions.of_member(member_id)]
        uow.audit.record("member.exported", caller, Subject.member(member_id))
        uow.commit()
        return MemberExport(exported_at=now(), member=member_view(member), tokens=uow.tokens.for_member(member_id),
                            events=events, questions=questions)


def erase_member(caller: Caller, member_id: str, uow: MembersUoW) -> ErasureReceipt:
    """Pseudonymise the member, revoke their tokens and drop earlier events that carry their data."""
    require(access.owns_personal_data(caller, member_id), "only the member or the operator may erase")
    with uow:
        member = uow.members.get(member_id)
        if member is None:
            raise NotFound(f"member {member_id} not found")
        if not member.erased:
            moment = now()
            member.erase(now=moment)
            uow.members.save(member)
            uow.tokens.revoke_all(member_id, moment)
            uow.questions.forget_member(member_id)  # between two people: both sides' copy goes (decision 0010)
            uow.forget_events_about(member_id)
            uow.forget_answers_about(member_id)
            # The erasure is recorded, then every reference to the member goes: this entry too no longer leads
            # to them (an erasure by the member themself names no one).
            uow.audit.record("member.erased", caller, Subject.member(member_id))
            uow.audit.forget_member(member_id)
            uow.commit()
        assert member.erased_at is not None
        return ErasureReceipt(member_id=member.id, erased_at=member.erased_at)


def member_view(member: Member) -> MemberOut:
    return MemberOut(
        id=member.id, name=member.name, email=member.email, organisation=member.organisation,
        perspectives=member.perspectives, expertise=member.expertise,
        findable_by_expertise=member.findable_by_expertise, named_in_shared_outputs=member.named_in_shared_outputs,
        memberships=[MembershipOut(network_id=m.network_id, role=m.role, joined_at=m.joined_at)
                     for m in sorted(member.memberships.values(), key=lambda m: m.network_id)],
        created_at=member.created_at, updated_at=member.updated_at, revision=member.revision,
    )


def active_member(uow: MembersUoW, member_id: str) -> Member:
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


def health(uow: MembersUoW) -> ServiceHealth:
    with uow:
        uow.ping()
        return ServiceHealth(service="members", database="ok")
