"""What the members service's handlers depend on: its unit of work with its repositories, and what it needs from
other services (its adapters: :mod:`services.members.adapters`).

The SQL side (:class:`services.members.unit_of_work.MembersUnitOfWork` with
:class:`services.members.repository.MemberRepository` and :class:`~services.members.repository.TokenRepository`)
and the tests' in-memory fakes both satisfy these Protocols structurally (``services/common/uow.py`` says why the
repositories are read-only properties). Each Protocol holds only what a handler uses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from services.common.audit import AuditLog
from services.common.uow import UnitOfWork
from services.members.domain import ExpertQuestion, Member
from services.members.schemas import FindExperts, ListQuestions, SearchMembers, TokenInfo, TokenVia


class MemberRepo(Protocol):
    """Members, with their memberships: loading, saving and searching."""

    def get(self, member_id: str) -> Member | None:
        """The member, erased or not, or None; the unit of work collects the events of what it hands out."""
        ...

    def get_by_email(self, email: str) -> Member | None: ...

    def add(self, member: Member) -> None: ...

    def save(self, member: Member) -> None: ...

    def search(self, query: SearchMembers, within: list[str] | None) -> tuple[list[Member], str | None]:
        """Active members matching the query, a page of them and the next page's token; ``within``: only members
        of these networks, None for no such limit."""
        ...

    def findable_by_expertise(self, tag: str, page_size: int,
                              page_token: str | None) -> tuple[list[Member], str | None]:
        """Active members who consented to be found by expertise and have ``tag``; a page and the next token."""
        ...

    def findable_experts(self, query: FindExperts, within: list[str] | None,
                         exclude: str | None) -> tuple[list[Member], str | None]:
        """Active members who consented to be found by expertise, with ``query.tag`` if given, members of one of
        ``within`` (None: of any network or none), other than ``exclude``; a page and the next token."""
        ...


class TokenRepo(Protocol):
    """Members' API tokens, stored by their hash."""

    def add(self, token_id: str, member_id: str, token_hash: str, label: str, now: datetime, *,
            expires_at: datetime | None = None, via: TokenVia = "operator", operator: bool = False) -> TokenInfo: ...

    def active(self, token_hash: str, now: datetime) -> TokenInfo | None:
        """The token with this hash while it works: not revoked, not expired (``expires_at`` after ``now``)."""
        ...

    def for_member(self, member_id: str) -> list[TokenInfo]: ...

    def revoke(self, token_id: str, now: datetime) -> bool:
        """Revoke the token if it is active; whether it was."""
        ...

    def exists(self, token_id: str) -> bool: ...

    def holder(self, token_id: str) -> str | None:
        """The member a token was issued to; None if there is no such token."""
        ...

    def revoke_all(self, member_id: str, now: datetime) -> None: ...


class QuestionRepo(Protocol):
    """Questions members ask experts: loading, saving, a member's page, and erasure."""

    def get(self, question_id: str) -> ExpertQuestion | None: ...

    def add(self, question: ExpertQuestion) -> None: ...

    def save(self, question: ExpertQuestion) -> None: ...

    def page(self, member_id: str, query: ListQuestions) -> tuple[list[ExpertQuestion], str | None]:
        """The questions ``member_id`` asked or received (``query.role``), newest first; the next page's token."""
        ...

    def of_member(self, member_id: str) -> list[ExpertQuestion]: ...

    def forget_member(self, member_id: str) -> None:
        """Delete every question the member asked or received."""


class MembersUoW(UnitOfWork, Protocol):
    """The unit of work the members service's handlers take."""

    @property
    def members(self) -> MemberRepo: ...

    @property
    def tokens(self) -> TokenRepo: ...

    @property
    def questions(self) -> QuestionRepo: ...

    @property
    def audit(self) -> AuditLog: ...


class NetworkDirectory(Protocol):
    def ensure_open(self, network_id: str) -> None:
        """Raise NotFound for an unknown network and Conflict for an archived one."""
