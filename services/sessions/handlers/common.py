"""What several handlers share: the clock, loading with NotFound, and the network and membership checks that
fall back to the owning service when the read model has not caught up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from services.common.errors import Conflict, NotFound, violation
from services.sessions.domain.planning import raise_if
from services.sessions.domain.read_models import KnownNetwork, MemberFacts, Person, facts_updates
from services.sessions.domain.session import Session, SessionOutline
from services.sessions.ports import Directory, SessionsUoW


def now() -> datetime:
    return datetime.now(UTC)


def get_session(uow: SessionsUoW, session_id: str, *, for_update: bool = False) -> Session:
    session = uow.sessions.get(session_id, for_update=for_update)
    if session is None:
        raise NotFound(f"session {session_id} not found")
    return session


def get_outline(uow: SessionsUoW, session_id: str) -> SessionOutline:
    """What a command that only checks the session needs of it, not found as :func:`get_session` is."""
    outline = uow.sessions.outline(session_id)
    if outline is None:
        raise NotFound(f"session {session_id} not found")
    return outline


def known_network(uow: SessionsUoW, directory: Directory, network_id: str, *,
                  must_be_active: bool = False) -> KnownNetwork:
    """The network from the read model, or from the networks service if the read model has not seen it."""
    network = uow.read_models.network(network_id)
    if network is None:
        network = directory.network(network_id)
        if network is not None:
            uow.read_models.put_network(network)
    if network is None:
        raise NotFound(f"network {network_id} not found",
                       [violation("network_id", "known_network", "no such network")])
    if must_be_active and not network.active:
        raise Conflict(f"network {network_id} is archived",
                       [violation("network_id", "active_network", "the network is archived")])
    return network


def refresh_member(uow: SessionsUoW, directory: Directory, member_id: str) -> MemberFacts | None:
    """Ask the members service and fold the answer into the read models (only what is newer)."""
    facts = directory.member(member_id)
    if facts is None:
        return None
    person, changed = facts_updates(uow.read_models.person(member_id), uow.read_models.memberships_of(member_id), facts)
    if person is not None:
        uow.read_models.put_person(person)
    for record in changed:
        uow.read_models.put_membership(record)
    return facts


def ensure_network_members(uow: SessionsUoW, directory: Directory, network_id: str,
                           fields: Iterable[tuple[str, str]]) -> dict[str, Person]:
    """Each ``(field, member_id)`` must name a member of the network; returns what is known of them.

    The read model answers when it knows an active membership; otherwise the members service does, so a
    member who joined a moment ago is not refused because an event is still on its way.
    """
    fields = list(fields)
    people = uow.read_models.people([member_id for _, member_id in fields])
    found = []
    for field, member_id in fields:
        record, person = uow.read_models.membership(network_id, member_id), people.get(member_id)
        if record is not None and record.active and person is not None and not person.erased:
            continue
        facts = refresh_member(uow, directory, member_id)
        if facts is not None and network_id in facts.networks:
            people[member_id] = uow.read_models.person(member_id) or facts.person()
            continue
        found.append(violation(field, "network_member", f"member {member_id} is not a member of this network"))
    raise_if(found)
    return people


def people_facts(uow: SessionsUoW, directory: Directory, member_ids: Iterable[str]) -> dict[str, Person]:
    """What is known of each member, asking the members service for anyone the read model has not seen."""
    member_ids = list(member_ids)
    people = uow.read_models.people(member_ids)
    for member_id in member_ids:
        if member_id not in people:
            facts = refresh_member(uow, directory, member_id)
            people[member_id] = facts.person() if facts else Person.unknown(member_id)
    return people
