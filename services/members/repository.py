"""Loading and saving members, memberships and access tokens (SQLAlchemy Core on the unit of work's
connection)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, Exists, RowMapping, and_, delete, exists, insert, or_, select, update

from services.common.paging import decode_page_token, encode_page_token
from services.common.uow import TrackingRepository
from services.common.vocabulary import MembershipRole, Perspective
from services.members.domain import ExpertQuestion, Member, Membership
from services.members.models import access_tokens, expert_questions, member_tags, members, memberships
from services.members.schemas import FindExperts, ListQuestions, QuestionStatus, SearchMembers, TokenInfo, TokenVia


class MemberRepository(TrackingRepository):
    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def get(self, member_id: str) -> Member | None:
        row = self.connection.execute(select(members).where(members.c.id == member_id)).mappings().first()
        return self._track(self._load([row])[0]) if row else None

    def get_by_email(self, email: str) -> Member | None:
        row = self.connection.execute(select(members).where(members.c.email == email)).mappings().first()
        return self._track(self._load([row])[0]) if row else None

    def add(self, member: Member) -> None:
        self.connection.execute(insert(members).values(**self._row(member)))
        self._write_children(member)
        self._track(member)

    def save(self, member: Member) -> None:
        self.connection.execute(update(members).where(members.c.id == member.id).values(**self._row(member)))
        self.connection.execute(delete(member_tags).where(member_tags.c.member_id == member.id))
        self.connection.execute(delete(memberships).where(memberships.c.member_id == member.id))
        self._write_children(member)

    def search(self, query: SearchMembers, within: list[str] | None = None) -> tuple[list[Member], str | None]:
        """Active members matching every given filter, ordered by name, keyset-paged; ``within``: only members
        of these networks (a coordinator's search), None for no such limit."""
        conditions: list[ColumnElement[bool]] = [members.c.erased_at.is_(None)]
        if query.perspective:
            conditions.append(self._has_tag("perspective", query.perspective.value))
        if query.expertise:
            conditions.append(self._has_tag("expertise", query.expertise))
        if query.organisation:
            conditions.append(members.c.organisation == query.organisation)
        for network_ids in ([query.network_id] if query.network_id else None, within):
            if network_ids is not None:
                conditions.append(exists().where(and_(memberships.c.member_id == members.c.id,
                                                      memberships.c.network_id.in_(network_ids))))
        return self._page_by_name(conditions, query.page_size, query.page_token)

    def findable_by_expertise(self, tag: str, page_size: int,
                              page_token: str | None) -> tuple[list[Member], str | None]:
        """Active members who consented to be found by expertise and have ``tag``; by name, keyset-paged."""
        conditions: list[ColumnElement[bool]] = [members.c.erased_at.is_(None),
                                                 members.c.findable_by_expertise.is_(True),
                                                 self._has_tag("expertise", tag)]
        return self._page_by_name(conditions, page_size, page_token)

    def findable_experts(self, query: FindExperts, within: list[str] | None,
                         exclude: str | None) -> tuple[list[Member], str | None]:
        """Active members who consented to be found, with the tag if given, in one of ``within`` (None: no such
        limit), other than ``exclude``; by name, keyset-paged."""
        conditions: list[ColumnElement[bool]] = [members.c.erased_at.is_(None),
                                                 members.c.findable_by_expertise.is_(True)]
        if query.tag:
            conditions.append(self._has_tag("expertise", query.tag))
        if within is not None:
            conditions.append(exists().where(and_(memberships.c.member_id == members.c.id,
                                                  memberships.c.network_id.in_(within))))
        if exclude is not None:
            conditions.append(members.c.id != exclude)
        return self._page_by_name(conditions, query.page_size, query.page_token)

    def _page_by_name(self, conditions: list[ColumnElement[bool]], page_size: int,
                      page_token: str | None) -> tuple[list[Member], str | None]:
        """The members meeting ``conditions``, by name then id, one keyset page after ``page_token``."""
        if page_token:
            after_name, after_id = decode_page_token(page_token)
            conditions = [*conditions, or_(members.c.name > after_name,
                                           and_(members.c.name == after_name, members.c.id > after_id))]
        rows = self.connection.execute(
            select(members).where(*conditions).order_by(members.c.name, members.c.id).limit(page_size + 1)
        ).mappings().all()
        page = self._load(rows[:page_size])
        return page, encode_page_token(page[-1].name, page[-1].id) if len(rows) > page_size else None

    def _has_tag(self, kind: str, value: str) -> Exists:
        return exists().where(and_(member_tags.c.member_id == members.c.id, member_tags.c.kind == kind,
                                   member_tags.c.value == value))

    def _load(self, rows: Sequence[RowMapping]) -> list[Member]:
        ids = [row["id"] for row in rows]
        held: dict[str, dict[str, Membership]] = {member_id: {} for member_id in ids}
        for m in self.connection.execute(select(memberships).where(memberships.c.member_id.in_(ids))).mappings():
            held[m["member_id"]][m["network_id"]] = Membership(m["network_id"], MembershipRole(m["role"]),
                                                               m["joined_at"])
        return [
            Member(
                id=row["id"], name=row["name"], email=row["email"], organisation=row["organisation"],
                perspectives=[Perspective(p) for p in row["perspectives"]], expertise=list(row["expertise"]),
                findable_by_expertise=row["findable_by_expertise"],
                named_in_shared_outputs=row["named_in_shared_outputs"], created_at=row["created_at"],
                updated_at=row["updated_at"], revision=row["revision"], erased_at=row["erased_at"],
                memberships=held[row["id"]],
            )
            for row in rows
        ]

    def _row(self, member: Member) -> dict[str, object]:
        return {
            "id": member.id, "name": member.name, "email": member.email, "organisation": member.organisation,
            "perspectives": [p.value for p in member.perspectives], "expertise": member.expertise,
            "findable_by_expertise": member.findable_by_expertise,
            "named_in_shared_outputs": member.named_in_shared_outputs, "created_at": member.created_at,
            "updated_at": member.updated_at, "revision": member.revision, "erased_at": member.erased_at,
        }

    def _write_children(self, member: Member) -> None:
        tags = [{"member_id": member.id, "kind": "perspective", "value": p.value} for p in member.perspectives]
        tags += [{"member_id": member.id, "kind": "expertise", "value": e} for e in member.expertise]
        if tags:
            self.connection.execute(insert(member_tags), tags)
        held = [{"member_id": member.id, "network_id": m.network_id, "role": m.role.value,
                 "joined_at": m.joined_at} for m in member.memberships.values()]
        if held:
            self.connection.execute(insert(memberships), held)


class TokenRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, token_id: str, member_id: str, token_hash: str, label: str, now: datetime, *,
            expires_at: datetime | None = None, via: TokenVia = "operator", operator: bool = False) -> TokenInfo:
        self.connection.execute(insert(access_tokens).values(
            id=token_id, member_id=member_id, token_hash=token_hash, label=label, created_at=now,
            expires_at=expires_at, via=via, operator=operator))
        return TokenInfo(token_id=token_id, member_id=member_id, label=label, created_at=now, expires_at=expires_at,
                         via=via, operator=operator)

    def active(self, token_hash: str, now: datetime) -> TokenInfo | None:
        """The token with this hash while it works: not revoked, not expired."""
        row = self.connection.execute(
            select(access_tokens).where(
                access_tokens.c.token_hash == token_hash, access_tokens.c.revoked_at.is_(None),
                or_(access_tokens.c.expires_at.is_(None), access_tokens.c.expires_at > now))
        ).mappings().first()
        return self._info(row) if row else None

    def for_member(self, member_id: str) -> list[TokenInfo]:
        rows = self.connection.execute(
            select(access_tokens).where(access_tokens.c.member_id == member_id).order_by(access_tokens.c.created_at)
        ).mappings()
        return [self._info(r) for r in rows]

    @staticmethod
    def _info(row: RowMapping) -> TokenInfo:
        return TokenInfo(token_id=row["id"], member_id=row["member_id"], label=row["label"],
                         created_at=row["created_at"], revoked_at=row["revoked_at"], expires_at=row["expires_at"],
                         via=row["via"], operator=row["operator"])

    def revoke(self, token_id: str, now: datetime) -> bool:
        result = self.connection.execute(
            update(access_tokens).where(access_tokens.c.id == token_id, access_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return result.rowcount > 0

    def exists(self, token_id: str) -> bool:
        return self.connection.execute(select(access_tokens.c.id).where(access_tokens.c.id == token_id)).first() \
            is not None

    def holder(self, token_id: str) -> str | None:
        member_id: str | None = self.connection.execute(
            select(access_tokens.c.member_id).where(access_tokens.c.id == token_id)).scalar()
        return member_id

    def revoke_all(self, member_id: str, now: datetime) -> None:
        self.connection.execute(
            update(access_tokens).where(access_tokens.c.member_id == member_id, access_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )



class QuestionRepository(TrackingRepository):
    """Questions to experts; a page of one member's, asked or received, newest first."""

    def __init__(self, connection: Connection) -> None:
        super().__init__()
        self.connection = connection

    def get(self, question_id: str) -> ExpertQuestion | None:
        row = self.connection.execute(select(expert_questions).where(expert_questions.c.id == question_id)) \
            .mappings().first()
        return self._track(self._load(row)) if row else None

    def add(self, question: ExpertQuestion) -> None:
        self.connection.execute(insert(expert_questions).values(**self._row(question)))
        self._track(question)

    def save(self, question: ExpertQuestion) -> None:
        self.connection.execute(update(expert_questions).where(expert_questions.c.id == question.id)
                                .values(**self._row(question)))

    def page(self, member_id: str, query: ListQuestions) -> tuple[list[ExpertQuestion], str | None]:
        party = expert_questions.c.asker_id if query.role == "asked" else expert_questions.c.expert_id
        conditions: list[ColumnElement[bool]] = [party == member_id]
        if query.status is not None:
            conditions.append(expert_questions.c.status == query.status.value)
        if query.page_token:
            before_at, before_id = decode_page_token(query.page_token)
            at = datetime.fromisoformat(before_at)
            conditions.append(or_(expert_questions.c.asked_at < at,
                                  and_(expert_questions.c.asked_at == at, expert_questions.c.id < before_id)))
        rows = self.connection.execute(
            select(expert_questions).where(*conditions)
            .order_by(expert_questions.c.asked_at.desc(), expert_questions.c.id.desc()).limit(query.page_size + 1)
        ).mappings().all()
        page = [self._load(row) for row in rows[: query.page_size]]
        more = len(rows) > query.page_size
        return page, encode_page_token(page[-1].asked_at.isoformat(), page[-1].id) if more else None

    def of_member(self, member_id: str) -> list[ExpertQuestion]:
        """Every question the member asked or received, oldest first (a privacy export)."""
        rows = self.connection.execute(
            select(expert_questions)
            .where(or_(expert_questions.c.asker_id == member_id, expert_questions.c.expert_id == member_id))
            .order_by(expert_questions.c.asked_at, expert_questions.c.id)
        ).mappings().all()
        return [self._load(row) for row in rows]

    def forget_member(self, member_id: str) -> None:
        """Erasure: the questions a member asked or received go, for both sides."""
        self.connection.execute(delete(expert_questions).where(
            or_(expert_questions.c.asker_id == member_id, expert_questions.c.expert_id == member_id)))

    @staticmethod
    def _load(row: RowMapping) -> ExpertQuestion:
        return ExpertQuestion(
            id=row["id"], network_id=row["network_id"], asker_id=row["asker_id"], expert_id=row["expert_id"],
            tag=row["tag"], text=row["text"], asker_named=row["asker_named"], status=QuestionStatus(row["status"]),
            asked_at=row["asked_at"], closed_at=row["closed_at"], answer=row["answer"],
            shared_email=row["shared_email"], contact_note=row["contact_note"],
            decline_reason=row["decline_reason"], revision=row["revision"],
        )

    @staticmethod
    def _row(question: ExpertQuestion) -> dict[str, object]:
        return {
            "id": question.id, "network_id": question.network_id, "asker_id": question.asker_id,
            "expert_id": question.expert_id, "tag": question.tag, "text": question.text,
            "asker_named": question.asker_named, "status": question.status.value, "asked_at": question.asked_at,
            "closed_at": question.closed_at, "answer": question.answer, "shared_email": question.shared_email,
            "contact_note": question.contact_note, "decline_reason": question.decline_reason,
            "revision": question.revision,
        }
