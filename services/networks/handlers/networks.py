"""Creating, changing, archiving and reading networks: load through the unit of work, apply the domain, commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import cast

from services.common.caller import Caller, require
from services.common.vocabulary import MembershipRole
from services.networks.domain import Network, NetworkChanges, access, ancestors_of, not_found
from services.networks.domain.health import MemberFacts
from services.networks.ports import NetworksUoW
from services.networks.schemas import (
    CreateNetwork,
    ListNetworks,
    NetworkNode,
    NetworkOut,
    NetworkPage,
    Person,
    ServiceHealth,
    UpdateNetwork,
)


def now() -> datetime:
    return datetime.now(UTC)


def create_network(caller: Caller, cmd: CreateNetwork, uow: NetworksUoW) -> NetworkOut:
    require(access.can_create_network(caller, cmd.parent_id), access.not_coordinated(cmd.parent_id)
            if cmd.parent_id else "only the operator creates top-level networks")
    with uow:
        parent = uow.networks.get(cmd.parent_id)
        network = Network.create(
            str(uuid.uuid4()), now=now(), parent=parent, name=cmd.name, level=cmd.level, kind=cmd.kind,
            theme=cmd.theme, urgency=cmd.urgency, host_organisation=cmd.host_organisation, parent_id=cmd.parent_id,
            region=cmd.region, cadence_weeks=cmd.cadence_weeks, start_date=cmd.start_date,
            requires_preparation=cmd.requires_preparation, unprepared_policy=cmd.unprepared_policy,
        )
        uow.networks.add(network)
        uow.commit()
        return network_view(network, uow, caller)


def update_network(caller: Caller, network_id: str, cmd: UpdateNetwork, uow: NetworksUoW) -> NetworkOut:
    require(access.can_update_network(caller, network_id), access.not_coordinated(network_id))
    with uow:
        network = get_known(uow, network_id)
        # The fields given, each validated to its type, null refused for those a network must have (non_nullable):
        # the model's fields are all optional only because any of them may be left out.
        changes = cast(NetworkChanges, cmd.changes())
        parent_id = changes.get("parent_id", network.parent_id)
        require(access.can_move_network(caller, network.parent_id, parent_id), access.not_coordinated(parent_id)
                if parent_id else "only the operator makes a network top-level")
        network.update(changes, now=now(), parent=uow.networks.get(parent_id),
                       ancestors=ancestors_of(parent_id, uow.networks.parent_of),
                       child_levels=uow.networks.active_child_levels(network_id))
        uow.networks.save(network)
        uow.commit()
        return network_view(network, uow, caller)


def archive_network(caller: Caller, network_id: str, uow: NetworksUoW) -> NetworkOut:
    require(access.can_archive_network(caller, network_id), access.not_coordinated(network_id))
    with uow:
        network = get_known(uow, network_id)
        network.archive(now=now(), active_children=len(uow.networks.active_child_levels(network_id)))
        uow.networks.save(network)
        uow.commit()
        return network_view(network, uow, caller)


def get_network(caller: Caller | None, network_id: str, uow: NetworksUoW) -> NetworkOut:
    """``caller`` None: a reader outside every network."""
    with uow:
        return network_view(get_known(uow, network_id), uow, caller)


def list_networks(caller: Caller | None, query: ListNetworks, uow: NetworksUoW) -> NetworkPage:
    with uow:
        found, next_token = uow.networks.search(query)
        people = uow.read_models.members_of_many([n.id for n in found])  # one read for the page's members
        return NetworkPage(items=[network_view(n, uow, caller, people[n.id]) for n in found],
                           next_page_token=next_token)


def network_tree(network_id: str, uow: NetworksUoW) -> NetworkNode:
    with uow:
        found = uow.networks.subtree(network_id)
        if not found:
            raise not_found(network_id)
        nodes = {n.id: NetworkNode(id=n.id, name=n.name, level=n.level, kind=n.kind, status=n.status) for n in found}
        for network in sorted(found, key=lambda n: n.name):
            if network.id != network_id and network.parent_id in nodes:
                nodes[network.parent_id].children.append(nodes[network.id])
        return nodes[network_id]


def ancestry(network_id: str, uow: NetworksUoW) -> list[str]:
    """The network and its ancestors, nearest first (for scoping: who administers a network above it)."""
    with uow:
        get_known(uow, network_id)
        return ancestors_of(network_id, uow.networks.parent_of)


def health(uow: NetworksUoW) -> ServiceHealth:
    with uow:
        uow.ping()
        return ServiceHealth(service="networks", database="ok")


def network_view(network: Network, uow: NetworksUoW, caller: Caller | None,
                 people: list[MemberFacts] | None = None) -> NetworkOut:
    """The network as ``caller`` may see it: its staff by member id inside it, by role and perspectives outside;
    ``people``: its active members when the caller read them already."""
    if people is None:
        people = uow.read_models.members_of(network.id)
    ids = access.sees_staff_ids(caller, network.id)

    def with_role(role: MembershipRole) -> list[Person]:
        return [Person(member_id=p.member_id if ids else None, role=p.role, perspectives=list(p.perspectives))
                for p in sorted(people, key=lambda p: p.member_id) if p.role == role]

    return NetworkOut(
        id=network.id, name=network.name, level=network.level, kind=network.kind, theme=network.theme,
        urgency=network.urgency, host_organisation=network.host_organisation, parent_id=network.parent_id,
        region=network.region, cadence_weeks=network.cadence_weeks, start_date=network.start_date,
        requires_preparation=network.requires_preparation, unprepared_policy=network.unprepared_policy,
        status=network.status, coordinators=with_role(MembershipRole.COORDINATOR),
        facilitators=with_role(MembershipRole.FACILITATOR), member_count=len(people), created_at=network.created_at,
        updated_at=network.updated_at, revision=network.revision,
    )


def get_known(uow: NetworksUoW, network_id: str) -> Network:
    network = uow.networks.get(network_id)
    if network is None:
        raise not_found(network_id)
    return network
