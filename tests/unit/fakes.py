"""Hand-written fakes for the members service: the same contracts as the SQL repositories and unit of
work, held in memory.

Stored aggregates are copies, as rows in a database would be: a handler that changes a member and forgets
to ``save`` it changes nothing here either. ``rollback`` restores the state of the last commit, so a
handler that fails half-way leaves no trace, as a database transaction would.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.common.events import Envelope
from services.common.uow import AbstractUnitOfWork, TrackingRepository
from services.members.domain import Member
from services.members.repository import decode_page_token, encode_page_token
from services.members.schemas import SearchMembers, TokenInfo
from tests.support.consumers import RemembersConsumedEvents


def _unique_email_violation(email: str) -> IntegrityError:
    # What the database's unique index on members.email raises.
    return IntegrityError("INSERT INTO members ...", {"email": email},
                          Exception("UNIQUE constraint failed: members.email"))


class FakeMemberRepository(TrackingRepository):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Member] = {}

    def get(self, member_id: str) -> Member | None:
        stored = self.rows.get(member_id)
        return self._track(self._copy(stored)) if stored else None

    def get_by_email(self, email: str) -> Member | None:
        found = next((m for m in self.rows.values() if m.email == email), None)
        return self._track(self._copy(found)) if found else None

    def add(self, member: Member) -> None:
        if member.id in self.rows:
            raise IntegrityError("INSERT INTO members ...", {"id": member.id}, Exception("UNIQUE: members.id"))
        self._check_email(member)
        self.rows[member.id] = self._copy(member)
        self._track(member)

    def save(self, member: Member) -> None:
        self._check_email(member)
        self.rows[member.id] = self._copy(member)

    def search(self, query: SearchMembers, within: list[str] | None = None) -> tuple[list[Member], str | None]:
        """Active members matching every given filter, ordered by (name, id), keyset-paged."""
        found = [m for m in self.rows.values() if self._matches(m, query, within)]
        found.sort(key=lambda m: (m.name, m.id))
        if query.page_token:
            after = decode_page_token(query.page_token)
            found = [m for m in found if (m.name, m.id) > after]
        page = [self._copy(m) for m in found[: query.page_size]]
        next_token = encode_page_token(page[-1].name, page[-1].id) if len(found) > query.page_size else None
        return page, next_token

    def findable_by_expertise(self, tag: str, page_size: int,
                              page_token: str | None) -> tuple[list[Member], str | None]:
        """Active members who consented to be found by expertise and have ``tag``; by (name, id), keyset-paged."""
        found = sorted((m for m in self.rows.values()
                        if not m.erased and m.findable_by_expertise and tag in m.expertise),
                       key=lambda m: (m.name, m.id))
        if page_token:
            after = decode_page_token(page_token)
            found = [m for m in found if (m.name, m.id) > after]
        page = [self._copy(m) for m in found[:page_size]]
        return page, encode_page_token(page[-1].name, page[-1].id) if len(found) > page_size else None

    @staticmethod
    def _matches(member: Member, query: SearchMembers, within: list[str] | None) -> bool:
        networks = set(member.memberships)
        return (
            not member.erased
            and (query.perspective is None or query.perspective in member.perspectives)
            and (query.expertise is None or query.expertise in member.expertise)
            and (query.organisation is None or member.organisation == query.organisation)
            and (query.network_id is None or query.network_id in networks)
            and (within is None or bool(networks & set(within)))
        )

    def _check_email(self, member: Member) -> None:
        if any(other.email == member.email and other.id != member.id for other in self.rows.values()):
            raise _unique_email_violation(member.email)

    @staticmethod
    def _copy(member: Member) -> Member:
        stored = copy.deepcopy(member)
        stored.events = []  # events travel through the outbox, never with the stored row
        return stored


@dataclass
class StoredToken:
    token_id: str
    member_id: str
    token_hash: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    via: str = "operator"
    operator: bool = False

    def info(self) -> TokenInfo:
        return TokenInfo.model_validate({
            "token_id": self.token_id, "member_id": self.member_id, "label": self.label,
            "created_at": self.created_at, "revoked_at": self.revoked_at, "expires_at": self.expires_at,
            "via": self.via, "operator": self.operator})


class FakeTokenRepository:
    def __init__(self) -> None:
        self.rows: dict[str, StoredToken] = {}

    def add(self, token_id: str, member_id: str, token_hash: str, label: str, now: datetime, *,
            expires_at: datetime | None = None, via: str = "operator", operator: bool = False) -> TokenInfo:
        stored = StoredToken(token_id, member_id, token_hash, label, now, None, expires_at, via, operator)
        self.rows[token_id] = stored
        return stored.info()

    def active(self, token_hash: str, now: datetime) -> TokenInfo | None:
        return next((t.info() for t in self.rows.values()
                     if t.token_hash == token_hash and t.revoked_at is None
                     and (t.expires_at is None or t.expires_at > now)), None)

    def for_member(self, member_id: str) -> list[TokenInfo]:
        held = sorted((t for t in self.rows.values() if t.member_id == member_id), key=lambda t: t.created_at)
        return [t.info() for t in held]

    def revoke(self, token_id: str, now: datetime) -> bool:
        stored = self.rows.get(token_id)
        if stored is None or stored.revoked_at is not None:
            return False
        stored.revoked_at = now
        return True

    def exists(self, token_id: str) -> bool:
        return token_id in self.rows

    def holder(self, token_id: str) -> str | None:
        stored = self.rows.get(token_id)
        return stored.member_id if stored else None

    def revoke_all(self, member_id: str, now: datetime) -> None:
        for stored in self.rows.values():
            if stored.member_id == member_id and stored.revoked_at is None:
                stored.revoked_at = now


class FakeQuestionRepository(TrackingRepository):
    """Questions to experts in memory (the handlers' own tests use the SQL repository on SQLite)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, Any] = {}

    def get(self, question_id: str) -> Any:
        stored = self.rows.get(question_id)
        return self._track(copy.deepcopy(stored)) if stored else None

    def add(self, question: Any) -> None:
        self.save(question)
        self._track(question)

    def save(self, question: Any) -> None:
        stored = copy.deepcopy(question)
        stored.events = []
        self.rows[question.id] = stored

    def of_member(self, member_id: str) -> list[Any]:
        return [q for q in self.rows.values() if member_id in (q.asker_id, q.expert_id)]

    def forget_member(self, member_id: str) -> None:
        self.rows = {k: q for k, q in self.rows.items() if member_id not in (q.asker_id, q.expert_id)}


class FakeAuditLog:
    """The audit log in memory: each entry as the SQL log writes it, with the member ids it names kept apart
    (``people``), as ``audit_people`` keeps them."""

    def __init__(self, context: Any) -> None:
        self.context = context  # the unit of work: its correlation id and request id when an entry is written
        self.rows: list[dict[str, Any]] = []
        self.people: dict[str, str] = {}

    def record(self, action: str, caller: Any, target: Any, *, on_behalf_of: Any = None,
               detail: Any = None) -> None:
        from services.common.audit import ACTIONS, actor_of, check_detail

        assert action in ACTIONS, action
        actor = actor_of(caller)
        self.rows.append({"action": action, "actor": (actor.kind, self._ref(actor)),
                          "target": (target.kind, self._ref(target)),
                          "on_behalf_of": (on_behalf_of.kind, on_behalf_of.id) if on_behalf_of else None,
                          "correlation_id": self.context.correlation_id, "request_id": self.context.request_id,
                          "detail": check_detail(detail)})

    def _ref(self, subject: Any) -> str | None:
        person = subject.id if subject.kind == "member" else subject.person if subject.kind == "operator" else None
        if person is None:
            return subject.id
        ref = str(uuid.uuid4())
        self.people[ref] = person
        return ref

    def forget_member(self, member_id: str) -> None:
        self.people = {ref: m for ref, m in self.people.items() if m != member_id}

    def entries(self, query: Any) -> list[Any]:
        raise NotImplementedError("the SQL audit log's reading is tested on SQLite and PostgreSQL")

    def shown(self, ref: str | None) -> str | None:
        """The member a reference leads to now (None once erased)."""
        return self.people.get(ref or "")


class FakeMembersUnitOfWork(RemembersConsumedEvents, AbstractUnitOfWork):
    """Commits move the collected events, as envelopes, to ``published`` (the fake outbox)."""

    repositories = ("members", "questions")
    producer = "members"

    def __init__(self, correlation_id: str | None = None) -> None:
        super().__init__()
        self.correlation_id = correlation_id
        self.members = FakeMemberRepository()
        self.tokens = FakeTokenRepository()
        self.questions = FakeQuestionRepository()
        self.audit = FakeAuditLog(self)
        self.published: list[Envelope] = []
        self.subjects: dict[uuid.UUID, str | None] = {}  # envelope id -> whom it is about (outbox.subject)
        self.processed: set[tuple[str, str]] = set()
        self.committed = 0
        self.pings = 0
        self._last_commit = self._state()

    def __enter__(self) -> FakeMembersUnitOfWork:
        super().__enter__()
        self.questions.seen = []
        self.members.seen = []  # a fresh transaction hands out fresh aggregates
        self._last_commit = self._state()
        return self

    def commit(self) -> None:
        self.collect_from_repositories()
        for envelope, payload in self.envelopes():
            self.published.append(envelope)
            self.subjects[envelope.id] = payload.subject()
        self._events = []
        self.committed += 1
        self._last_commit = self._state()

    def rollback(self) -> None:
        self._restore(self._last_commit)
        self._events = []

    def forget_events_about(self, subject: str) -> None:
        self.published = [e for e in self.published if self.subjects[e.id] != subject]

    def events_about(self, subject: str) -> list[dict[str, Any]]:
        return [e.to_wire() for e in self.published if self.subjects[e.id] == subject]

    def ping(self) -> None:
        self.pings += 1

    def published_types(self) -> list[str]:
        return [e.type for e in self.published]

    def _state(self) -> dict[str, Any]:
        return copy.deepcopy({"members": self.members.rows, "tokens": self.tokens.rows,
                              "questions": self.questions.rows, "published": self.published, "subjects": self.subjects,
                              "processed": self.processed, "audit": (self.audit.rows, self.audit.people)})

    def _restore(self, state: dict[str, Any]) -> None:
        state = copy.deepcopy(state)
        self.members.rows, self.tokens.rows = state["members"], state["tokens"]
        self.questions.rows = state["questions"]
        self.published, self.subjects, self.processed = state["published"], state["subjects"], state["processed"]
        self.audit.rows, self.audit.people = state["audit"]


class FakeNetworkDirectory:
    """Networks that exist, and which of them are archived."""

    def __init__(self, open_networks: set[str] | None = None, archived: set[str] | None = None) -> None:
        self.open_networks = open_networks
        self.archived = archived or set()

    def ensure_open(self, network_id: str) -> None:
        from services.common.errors import Conflict, NotFound

        if network_id in self.archived:
            raise Conflict(f"network {network_id} is archived")
        if self.open_networks is not None and network_id not in self.open_networks:
            raise NotFound(f"network {network_id} not found")
