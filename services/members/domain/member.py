"""The member aggregate: a person, their consents and their memberships. Plain Python, no I/O.

Every change raises the member's ``revision`` and records an event; the unit of work writes the
events to the outbox in the same transaction as the new state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from services.common.catalogue import (
    MemberErased,
    MemberRegistered,
    MembershipJoined,
    MembershipLeft,
    MemberUpdated,
)
from services.common.errors import Conflict, NotFound, violation
from services.common.events import EventPayload
from services.common.vocabulary import MembershipRole, Perspective

ERASED_NAME = "erased member"


class MemberState(TypedDict):
    """A member's whole state as their profile events carry it (:class:`~services.common.catalogue.MemberSnapshot`)."""

    member_id: str
    revision: int
    name: str
    email: str
    organisation: str | None
    perspectives: list[Perspective]
    expertise: list[str]
    findable_by_expertise: bool
    named_in_shared_outputs: bool


@dataclass
class Membership:
    network_id: str
    role: MembershipRole
    joined_at: datetime


@dataclass
class Member:
    id: str
    name: str
    email: str
    organisation: str | None
    perspectives: list[Perspective]
    expertise: list[str]
    findable_by_expertise: bool
    named_in_shared_outputs: bool
    created_at: datetime
    updated_at: datetime
    revision: int = 1
    erased_at: datetime | None = None
    memberships: dict[str, Membership] = field(default_factory=dict)
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(cls, member_id: str, *, now: datetime, name: str, email: str, organisation: str | None,
                 perspectives: list[Perspective], expertise: list[str], findable_by_expertise: bool,
                 named_in_shared_outputs: bool) -> Member:
        member = cls(id=member_id, name=name, email=email, organisation=organisation, perspectives=perspectives,
                     expertise=expertise, findable_by_expertise=findable_by_expertise,
                     named_in_shared_outputs=named_in_shared_outputs, created_at=now, updated_at=now)
        member.events.append(MemberRegistered(**member._snapshot()))
        return member

    @property
    def erased(self) -> bool:
        return self.erased_at is not None

    def update(self, changes: Mapping[str, object], *, now: datetime) -> None:
        """Set the profile fields ``changes`` names (a validated :class:`~services.members.schemas.UpdateMember`'s
        changes); a value equal to the current one changes nothing."""
        self._ensure_active()
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not changed:
            return
        for name, value in changed.items():
            setattr(self, name, value)
        self._touch(now)
        self.events.append(MemberUpdated(**self._snapshot()))

    def join(self, network_id: str, role: MembershipRole, *, now: datetime) -> Membership:
        """Join a network, or change the role held in it. Joining again with the same role changes nothing."""
        self._ensure_active()
        current = self.memberships.get(network_id)
        if current and current.role == role:
            return current
        membership = Membership(network_id, role, current.joined_at if current else now)
        self.memberships[network_id] = membership
        self._touch(now)
        self.events.append(MembershipJoined(member_id=self.id, network_id=network_id, role=role,
                                            perspectives=self.perspectives, revision=self.revision))
        return membership

    def leave(self, network_id: str, *, now: datetime) -> None:
        self._ensure_active()
        if network_id not in self.memberships:
            raise NotFound(f"member {self.id} is not a member of network {network_id}",
                           [violation("network_id", "membership_exists", "not a member of this network")])
        del self.memberships[network_id]
        self._touch(now)
        self.events.append(MembershipLeft(member_id=self.id, network_id=network_id, revision=self.revision))

    def erase(self, *, now: datetime) -> None:
        """Right to erasure: remove what identifies the person, keep the id so counts elsewhere stay right."""
        if self.erased:
            return
        self.name = ERASED_NAME
        self.email = f"erased-{self.id}@erased.invalid"
        self.organisation = None
        self.perspectives = []
        self.expertise = []
        self.findable_by_expertise = False
        self.named_in_shared_outputs = False
        self.memberships.clear()
        self.erased_at = now
        self._touch(now)
        self.events.append(MemberErased(member_id=self.id, revision=self.revision))

    def administers(self) -> list[str]:
        return sorted(n for n, m in self.memberships.items() if m.role == MembershipRole.COORDINATOR)

    def facilitates(self) -> list[str]:
        return sorted(n for n, m in self.memberships.items() if m.role == MembershipRole.FACILITATOR)

    def _ensure_active(self) -> None:
        if self.erased:
            raise Conflict(f"member {self.id} was erased", [violation("member_id", "not_erased",
                                                                      "this member's data was erased")])

    def _touch(self, now: datetime) -> None:
        self.revision += 1
        self.updated_at = now

    def _snapshot(self) -> MemberState:
        return {
            "member_id": self.id,
            "revision": self.revision,
            "name": self.name,
            "email": self.email,
            "organisation": self.organisation,
            "perspectives": self.perspectives,
            "expertise": self.expertise,
            "findable_by_expertise": self.findable_by_expertise,
            "named_in_shared_outputs": self.named_in_shared_outputs,
        }


def email_taken(email: str) -> Conflict:
    return Conflict(f"a member with email {email} already exists",
                    [violation("email", "unique", "this email address is already registered")])
