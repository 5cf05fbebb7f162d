"""A link between two networks: requested by one side, accepted or rejected by the other, revocable by
either, ended by a block. Each side sets the policy for what flows from it to the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from services.common.catalogue import (
    LinkAccepted,
    LinkBlocked,
    LinkPolicyChanged,
    LinkRejected,
    LinkRequested,
    LinkRevoked,
    SharingPolicy,
)
from services.common.errors import IllegalTransition, PermissionDenied, ValidationFailed, violation
from services.common.events import EventPayload
from services.common.vocabulary import LinkStatus, Visibility
from services.federation.domain.audience import DEFAULT_POLICY, Hop, Policy


class LinkKind(StrEnum):
    PARENT_CHILD = "parent_child"  # the hierarchy, made with the network's parent
    PEER = "peer"  # thematic


class LinkFields(TypedDict):
    """A link as its events carry it (:class:`services.common.catalogue.LinkSnapshot`)."""

    link_id: str
    revision: int
    kind: str
    requester_network_id: str
    target_network_id: str
    status: str
    requester_policy: SharingPolicy
    target_policy: SharingPolicy


OPEN = (LinkStatus.REQUESTED, LinkStatus.ACTIVE)
# Visibilities a policy may list: `network` never leaves its network, so no link can carry it.
SHAREABLE = (Visibility.LINKED, Visibility.FEDERATION, Visibility.PUBLIC)


def policy_from(wire: SharingPolicy | None) -> Policy:
    if wire is None:
        return DEFAULT_POLICY
    if Visibility.NETWORK in wire.visibilities:
        raise ValidationFailed.single("policy.visibilities", "shareable_only",
                                      "a link cannot carry network-only outputs")
    if wire.themes and not wire.visibilities:  # a filter on nothing: it would let nothing through
        raise ValidationFailed.single("policy.visibilities", "required_with_themes",
                                      "a theme filter needs the visibilities it filters; to let nothing flow, "
                                      "send no visibilities and no themes")
    themes = frozenset(t.strip().lower() for t in wire.themes) if wire.themes is not None else None
    return Policy(frozenset(wire.visibilities), themes)


def policy_to_wire(policy: Policy) -> SharingPolicy:
    return SharingPolicy(visibilities=[v for v in SHAREABLE if v in policy.visibilities],
                         themes=sorted(policy.themes) if policy.themes is not None else None)


@dataclass
class Link:
    id: str
    kind: LinkKind
    requester: str
    target: str
    status: LinkStatus
    requester_policy: Policy
    target_policy: Policy
    requested_at: datetime
    updated_at: datetime
    revision: int = 1
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def request(cls, link_id: str, kind: LinkKind, requester: str, target: str, *, now: datetime,
                policy: Policy = DEFAULT_POLICY, active: bool = False) -> Link:
        if requester == target:
            raise ValidationFailed.single("target_network_id", "not_self", "a network cannot link to itself")
        status = LinkStatus.ACTIVE if active else LinkStatus.REQUESTED
        link = cls(link_id, kind, requester, target, status, policy, DEFAULT_POLICY, now, now)
        link.events.append((LinkAccepted if active else LinkRequested)(**link.snapshot()))
        return link

    def involves(self, network_id: str) -> bool:
        return network_id in (self.requester, self.target)

    def other_side(self, network_id: str) -> str:
        return self.target if network_id == self.requester else self.requester

    def accept(self, *, now: datetime, policy: Policy | None = None) -> None:
        self._transition("accept", {LinkStatus.REQUESTED}, LinkStatus.ACTIVE, now)
        if policy is not None:
            self.target_policy = policy
        self.events.append(LinkAccepted(**self.snapshot()))

    def reject(self, *, now: datetime) -> None:
        self._transition("reject", {LinkStatus.REQUESTED}, LinkStatus.REJECTED, now)
        self.events.append(LinkRejected(**self.snapshot()))

    def revoke(self, *, now: datetime) -> None:
        self._transition("revoke", set(OPEN), LinkStatus.REVOKED, now)
        self.events.append(LinkRevoked(**self.snapshot()))

    def block(self, *, now: datetime) -> None:
        if self.status in OPEN:
            self._transition("block", set(OPEN), LinkStatus.BLOCKED, now)
            self.events.append(LinkBlocked(**self.snapshot()))

    def set_policy(self, side: str, policy: Policy, *, now: datetime) -> None:
        """``side`` sets what flows from it to the other network."""
        if self.status not in OPEN:
            raise IllegalTransition(f"cannot change the policy of a {self.status} link",
                                    [violation("status", "illegal_transition", f"the link is {self.status}")])
        if side == self.requester:
            self.requester_policy = policy
        elif side == self.target:
            self.target_policy = policy
        else:
            raise PermissionDenied(f"network {side} is not part of link {self.id}")
        self.revision += 1
        self.updated_at = now
        self.events.append(LinkPolicyChanged(**self.snapshot()))

    def hops(self) -> list[Hop]:
        if self.status != LinkStatus.ACTIVE:
            return []
        return [Hop(self.requester, self.target, self.requester_policy),
                Hop(self.target, self.requester, self.target_policy)]

    def policy_from(self, side: str) -> Policy:
        return self.requester_policy if side == self.requester else self.target_policy

    def snapshot(self) -> LinkFields:
        return {
            "link_id": self.id, "revision": self.revision, "kind": self.kind.value,
            "requester_network_id": self.requester, "target_network_id": self.target, "status": self.status.value,
            "requester_policy": policy_to_wire(self.requester_policy),
            "target_policy": policy_to_wire(self.target_policy),
        }

    def _transition(self, verb: str, allowed: set[LinkStatus], to: LinkStatus, now: datetime) -> None:
        if self.status not in allowed:
            raise IllegalTransition(f"cannot {verb} a {self.status} link",
                                    [violation("status", "illegal_transition", f"cannot {verb} a {self.status} link")])
        self.status = to
        self.revision += 1
        self.updated_at = now
