"""Networks, people and memberships as the sessions service knows them from other services' events.

Events arrive at least once and, across queues, in any order. Each event carries the revision of the
thing it describes, so every rule here is "apply only what is newer than what is held": a redelivered or
older event changes nothing. Each function returns the new record, or None when nothing changes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace

from services.common.catalogue import MemberErased, MembershipJoined, MembershipLeft, MemberSnapshot, NetworkSnapshot
from services.common.vocabulary import MembershipRole, NetworkStatus, Perspective, UnpreparedPolicy
from services.sessions.domain.participation import PreparationRule

PSEUDONYM_PREFIX = "erased-"


def is_newer(current_revision: int | None, incoming: int) -> bool:
    return current_revision is None or incoming > current_revision


def revision_of(record: KnownNetwork | Person | MembershipRecord | None) -> int | None:
    return None if record is None else record.revision


@dataclass(frozen=True)
class KnownNetwork:
    network_id: str
    revision: int
    name: str
    status: NetworkStatus
    requires_preparation: bool
    unprepared_policy: UnpreparedPolicy

    @classmethod
    def from_snapshot(cls, payload: NetworkSnapshot) -> KnownNetwork:
        return cls(payload.network_id, payload.revision, payload.name, payload.status, payload.requires_preparation,
                   payload.unprepared_policy)

    @property
    def active(self) -> bool:
        return self.status == NetworkStatus.ACTIVE

    def preparation_rule(self) -> PreparationRule:
        return PreparationRule(self.requires_preparation, self.unprepared_policy)


@dataclass(frozen=True)
class Person:
    """What attribution and perspective counts need to know about a member."""

    member_id: str
    revision: int
    name: str
    perspectives: tuple[Perspective, ...]
    named_in_shared_outputs: bool
    erased: bool = False

    @classmethod
    def from_snapshot(cls, payload: MemberSnapshot) -> Person:
        return cls(payload.member_id, payload.revision, payload.name, tuple(payload.perspectives),
                   payload.named_in_shared_outputs)

    @classmethod
    def unknown(cls, member_id: str) -> Person:
        """Someone this service holds no profile of: a pseudonym left by erasure, or not yet seen."""
        return cls(member_id, 0, "", (), False, erased=is_pseudonym(member_id))


@dataclass(frozen=True)
class MembershipRecord:
    network_id: str
    member_id: str
    role: MembershipRole | None
    revision: int
    active: bool  # False: a tombstone that remembers the revision of the leave


@dataclass(frozen=True)
class MemberFacts:
    """A member as the members service reports them over RPC: profile and memberships at one revision."""

    member_id: str
    revision: int
    name: str
    perspectives: tuple[Perspective, ...]
    named_in_shared_outputs: bool
    networks: dict[str, MembershipRole] = field(default_factory=dict)

    def person(self) -> Person:
        return Person(self.member_id, self.revision, self.name, self.perspectives, self.named_in_shared_outputs)


def network_update(current: KnownNetwork | None, payload: NetworkSnapshot) -> KnownNetwork | None:
    return KnownNetwork.from_snapshot(payload) if is_newer(revision_of(current), payload.revision) else None


def person_update(current: Person | None, payload: MemberSnapshot) -> Person | None:
    if current is not None and current.erased:
        return None  # erasure is final
    return Person.from_snapshot(payload) if is_newer(revision_of(current), payload.revision) else None


def joined_update(current: MembershipRecord | None, person: Person | None,
                  payload: MembershipJoined) -> MembershipRecord | None:
    if person is not None and person.erased:
        return None
    if not is_newer(revision_of(current), payload.revision):
        return None
    return MembershipRecord(payload.network_id, payload.member_id, payload.role, payload.revision, active=True)


def left_update(current: MembershipRecord | None, payload: MembershipLeft) -> MembershipRecord | None:
    # Written even when the join was never seen: the tombstone outranks a join that arrives later.
    if not is_newer(revision_of(current), payload.revision):
        return None
    role = current.role if current else None
    return MembershipRecord(payload.network_id, payload.member_id, role, payload.revision, active=False)


def erased_updates(current: Person | None, memberships: list[MembershipRecord],
                   payload: MemberErased) -> tuple[Person, list[MembershipRecord]]:
    """Erasure ends every membership and leaves a profile-less tombstone; it wins whatever the revisions."""
    revision = max(payload.revision, current.revision if current else 0)
    person = Person(payload.member_id, revision, "", (), False, erased=True)
    ended = [replace(m, active=False, revision=max(m.revision, payload.revision)) for m in memberships if m.active]
    return person, ended


def facts_updates(current: Person | None, memberships: list[MembershipRecord],
                  facts: MemberFacts) -> tuple[Person | None, list[MembershipRecord]]:
    """Fold an RPC answer into the read models, as if the events up to ``facts.revision`` had arrived."""
    if current is not None and current.erased:
        return None, []
    person = facts.person() if is_newer(revision_of(current), facts.revision) else None
    held = {m.network_id: m for m in memberships}
    changed = []
    for network_id, role in facts.networks.items():
        record = held.get(network_id)
        if is_newer(revision_of(record), facts.revision):
            changed.append(MembershipRecord(network_id, facts.member_id, role, facts.revision, active=True))
    for record in memberships:
        if record.active and record.network_id not in facts.networks and facts.revision > record.revision:
            changed.append(replace(record, active=False, revision=facts.revision))
    return person, changed


def new_pseudonym() -> str:
    """One random stand-in per erased member: their rows stay countable but point at nobody."""
    return f"{PSEUDONYM_PREFIX}{uuid.uuid4()}"


def is_pseudonym(member_id: str) -> bool:
    return member_id.startswith(PSEUDONYM_PREFIX)
