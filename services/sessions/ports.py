"""What the sessions service asks of other services, as one port the handlers depend on.

Read models lag a few milliseconds behind the services that feed them (a member who has just joined a
network registers at once; a coordinator schedules a session in a network created a moment ago). When the
read model does not know the answer, handlers ask the owning service through this port; tests pass a fake,
the service passes :class:`services.sessions.adapters.RpcDirectory`.
"""

from __future__ import annotations

from typing import Any, Protocol

from services.common.vocabulary import MembershipRole, NetworkStatus, Perspective, UnpreparedPolicy
from services.sessions.domain.read_models import KnownNetwork, MemberFacts


class Directory(Protocol):
    def member(self, member_id: str) -> MemberFacts | None:
        """The member's profile and memberships now, or None if there is no such (active) member."""

    def network(self, network_id: str) -> KnownNetwork | None:
        """The network now, or None if there is no such network."""


def facts_from_member(data: dict[str, Any]) -> MemberFacts:
    """Read the members service's ``get_member`` answer (its ``MemberOut`` as JSON)."""
    return MemberFacts(
        member_id=str(data["id"]),
        revision=int(data["revision"]),
        name=str(data["name"]),
        perspectives=tuple(Perspective(p) for p in data.get("perspectives") or ()),
        named_in_shared_outputs=bool(data.get("named_in_shared_outputs")),
        networks={m["network_id"]: MembershipRole(m["role"]) for m in data.get("memberships") or ()},
    )


def network_from_answer(data: dict[str, Any]) -> KnownNetwork:
    """Read the networks service's ``get_network`` answer (its ``NetworkOut`` as JSON)."""
    return KnownNetwork(
        network_id=str(data["id"]),
        revision=int(data["revision"]),
        name=str(data["name"]),
        status=NetworkStatus(data["status"]),
        requires_preparation=bool(data["requires_preparation"]),
        unprepared_policy=UnpreparedPolicy(data["unprepared_policy"]),
    )
