"""The network aggregate and the hierarchy rules. Plain Python, no I/O.

Kring connects national, regional, local and neighbourhood networks: a network's parent sits
at a higher level than the network itself, and the parent chain never loops back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TypedDict

from services.common.catalogue import NetworkArchived, NetworkCreated, NetworkUpdated
from services.common.errors import Conflict, IllegalTransition, NotFound, ValidationFailed, violation
from services.common.events import EventPayload
from services.common.vocabulary import NetworkKind, NetworkLevel, NetworkStatus, UnpreparedPolicy


class NetworkState(TypedDict):
    """A network's whole state as its events carry it (:class:`~services.common.catalogue.NetworkSnapshot`)."""

    network_id: str
    revision: int
    name: str
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    urgency: str | None
    host_organisation: str | None
    parent_id: str | None
    region: str | None
    cadence_weeks: int | None
    start_date: date | None
    requires_preparation: bool
    unprepared_policy: UnpreparedPolicy
    status: NetworkStatus


class NetworkChanges(TypedDict, total=False):
    """What an update sets: the fields it names, and only those (an equal value changes nothing)."""

    name: str
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    urgency: str | None
    host_organisation: str | None
    parent_id: str | None
    region: str | None
    cadence_weeks: int | None
    start_date: date | None
    requires_preparation: bool
    unprepared_policy: UnpreparedPolicy


@dataclass
class Network:
    id: str
    name: str
    level: NetworkLevel
    kind: NetworkKind
    theme: str
    urgency: str | None
    host_organisation: str | None
    parent_id: str | None
    region: str | None
    cadence_weeks: int | None
    start_date: date | None
    requires_preparation: bool
    unprepared_policy: UnpreparedPolicy
    created_at: datetime
    updated_at: datetime
    status: NetworkStatus = NetworkStatus.ACTIVE
    revision: int = 1
    events: list[EventPayload] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(cls, network_id: str, *, now: datetime, parent: Network | None, name: str, level: NetworkLevel,
               kind: NetworkKind, theme: str, urgency: str | None, host_organisation: str | None,
               parent_id: str | None, region: str | None, cadence_weeks: int | None, start_date: date | None,
               requires_preparation: bool, unprepared_policy: UnpreparedPolicy) -> Network:
        network = cls(id=network_id, name=name, level=level, kind=kind, theme=theme, urgency=urgency,
                      host_organisation=host_organisation, parent_id=parent_id, region=region,
                      cadence_weeks=cadence_weeks, start_date=start_date, requires_preparation=requires_preparation,
                      unprepared_policy=unprepared_policy, created_at=now, updated_at=now)
        check_parent(network, parent, ancestors=[])
        network.events.append(NetworkCreated(**network.snapshot()))
        return network

    @property
    def active(self) -> bool:
        return self.status == NetworkStatus.ACTIVE

    def update(self, changes: NetworkChanges, *, now: datetime, parent: Network | None, ancestors: list[str],
               child_levels: list[NetworkLevel]) -> None:
        """Apply changes. ``parent`` is the (new) parent, ``ancestors`` its chain upwards, ``child_levels``
        the levels of this network's active children, which must stay below this network."""
        self._ensure_active("update")
        changed = {name: value for name, value in changes.items() if getattr(self, name) != value}
        if not changed:
            return
        # Check the rules before touching this aggregate (a field given its current value stays as it is).
        proposed = replace(self, **changes)
        check_parent(proposed, parent, ancestors)
        if any(level.depth <= proposed.level.depth for level in child_levels):
            raise ValidationFailed.single(
                "level", "above_children",
                f"a {proposed.level} network cannot have children at the same or a higher level",
            )
        for name, value in changed.items():
            setattr(self, name, value)
        self._touch(now)
        self.events.append(NetworkUpdated(**self.snapshot()))

    def archive(self, *, now: datetime, active_children: int) -> None:
        self._ensure_active("archive")
        if active_children:
            raise Conflict(
                f"network {self.id} still has {active_children} active child networks",
                [violation("status", "no_active_children", "archive or move the child networks first")],
            )
        self.status = NetworkStatus.ARCHIVED
        self._touch(now)
        self.events.append(NetworkArchived(**self.snapshot()))

    def snapshot(self) -> NetworkState:
        return {
            "network_id": self.id, "revision": self.revision, "name": self.name, "level": self.level,
            "kind": self.kind, "theme": self.theme, "urgency": self.urgency,
            "host_organisation": self.host_organisation, "parent_id": self.parent_id, "region": self.region,
            "cadence_weeks": self.cadence_weeks, "start_date": self.start_date,
            "requires_preparation": self.requires_preparation, "unprepared_policy": self.unprepared_policy,
            "status": self.status,
        }

    def _ensure_active(self, verb: str) -> None:
        if not self.active:
            raise IllegalTransition(f"cannot {verb} an archived network",
                                    [violation("status", "illegal_transition", f"cannot {verb} an archived network")])

    def _touch(self, now: datetime) -> None:
        self.revision += 1
        self.updated_at = now


def check_parent(network: Network, parent: Network | None, ancestors: list[str]) -> None:
    """A parent exists, is active, sits at a higher level, and is not the network itself or below it."""
    if network.parent_id is None:
        return
    if parent is None:
        raise ValidationFailed.single("parent_id", "exists", f"no network {network.parent_id}")
    if not parent.active:
        raise ValidationFailed.single("parent_id", "active", "the parent network is archived")
    if parent.id == network.id or network.id in ancestors:
        raise ValidationFailed.single("parent_id", "no_cycle", "a network cannot sit under itself or its descendants")
    if parent.level.depth >= network.level.depth:
        raise ValidationFailed.single(
            "parent_id", "level_below_parent",
            f"a {network.level} network cannot sit under a {parent.level} network; the child's level must be lower",
        )


def ancestors_of(network_id: str | None, parent_of: Callable[[str], str | None], limit: int = 50) -> list[str]:
    """The chain of parent ids above ``network_id`` (itself included), bounded against corrupt data."""
    chain: list[str] = []
    current = network_id
    while current is not None and len(chain) < limit:
        chain.append(current)
        current = parent_of(current)
    return chain


def not_found(network_id: str) -> NotFound:
    return NotFound(f"network {network_id} not found")
