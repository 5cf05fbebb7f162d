"""Who may do what in the admin API: plain functions of a :class:`Principal`, no I/O.

Three kinds of caller: the operator (token from configuration; may do everything), a network
coordinator (kwartiermaker; their token is scoped to the networks they administer) and a plain member
(may see and manage their own record). Facilitators (begeleiders) act on the networks they facilitate:
they read the network's health report and run its sessions; in the members API they have no powers beyond
a member's.

Sessions: a network's coordinators and facilitators ("its staff") schedule and run its sessions, record
attendance, publish and retract outputs and read its learning report. Members register themselves for the
sessions of networks they belong to and record their own reflections; reflections are personal, so not even
the operator records one on a member's behalf.

Scope is the network itself, not its subtree: a coordinator of a regional network does not administer
the local networks under it (each network has its own coordinators). Creating a child network, or moving
a network under another one, also needs the parent's administrator; top-level networks are the operator's.
The network directory (list, read, tree) is not secret: any authenticated caller reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from services.common.errors import PermissionDenied
from services.common.vocabulary import Visibility
from services.members.schemas import CONSENT_FIELDS


@dataclass(frozen=True)
class Principal:
    member_id: str | None = None
    operator: bool = False
    administers: frozenset[str] = frozenset()
    facilitates: frozenset[str] = frozenset()
    member_of: frozenset[str] = frozenset()  # every network the member belongs to, in any role

    @classmethod
    def the_operator(cls) -> Principal:
        return cls(operator=True)

    @classmethod
    def from_rpc(cls, data: Mapping[str, Any]) -> Principal:
        """The members service's ``authenticate`` result."""
        return cls(
            member_id=str(data["member_id"]),
            administers=frozenset(data.get("administers") or ()),
            facilitates=frozenset(data.get("facilitates") or ()),
            member_of=frozenset(data.get("member_of") or ()),
        )

    @property
    def scope(self) -> str:
        """Who is asking, as the key of what is theirs alone (idempotency keys)."""
        return "operator" if self.operator else f"member:{self.member_id}"

    @property
    def is_coordinator(self) -> bool:
        return bool(self.administers)

    def is_self(self, member_id: str) -> bool:
        return self.member_id is not None and self.member_id == member_id

    def coordinates_any(self, network_ids: Iterable[str]) -> bool:
        return not self.administers.isdisjoint(network_ids)

    @property
    def networks(self) -> frozenset[str]:
        """Every network the caller is inside of: belongs to, administers or facilitates."""
        return self.member_of | self.administers | self.facilitates


def require(allowed: bool, message: str = "outside the scope of your token") -> None:
    if not allowed:
        raise PermissionDenied(message)


def can_register_member(p: Principal) -> bool:
    return p.operator or p.is_coordinator


def search_scope(p: Principal, network_id: str | None) -> list[str] | None:
    """The networks a search must stay within: ``None`` means no restriction.

    Raises PermissionDenied when the caller may not search at all, or names a network they do not administer.
    """
    if p.operator:
        return None
    if not p.is_coordinator:
        raise PermissionDenied("searching members needs a coordinator's or the operator's token")
    if network_id is not None:
        require(network_id in p.administers, f"you do not administer network {network_id}")
        return [network_id]
    return sorted(p.administers)


def can_view_member(p: Principal, member_id: str, member_networks: Iterable[str]) -> bool:
    return p.operator or p.is_self(member_id) or p.coordinates_any(member_networks)


def can_edit_profile(p: Principal, member_id: str, member_networks: Iterable[str]) -> bool:
    return can_view_member(p, member_id, member_networks)


def can_change_consent(p: Principal, member_id: str) -> bool:
    return p.operator or p.is_self(member_id)


def touches_consent(changed_fields: Iterable[str]) -> bool:
    """Consent is the member's own decision: a coordinator may fix a typo in a name, not opt someone in."""
    return not CONSENT_FIELDS.isdisjoint(changed_fields)


def can_set_membership(p: Principal, network_id: str) -> bool:
    return p.operator or network_id in p.administers


def can_remove_membership(p: Principal, network_id: str, member_id: str) -> bool:
    return p.operator or network_id in p.administers or p.is_self(member_id)


def can_export_member(p: Principal, member_id: str) -> bool:
    return p.operator or p.is_self(member_id)


def can_erase_member(p: Principal, member_id: str) -> bool:
    return p.operator or p.is_self(member_id)


def can_manage_tokens(p: Principal) -> bool:
    return p.operator


# --- networks -------------------------------------------------------------------------------------------


def administers(p: Principal, network_id: str) -> bool:
    return p.operator or network_id in p.administers


def can_create_network(p: Principal, parent_id: str | None) -> bool:
    """A coordinator creates child networks under a network they administer; a top-level network is the
    operator's."""
    return p.operator or (parent_id is not None and parent_id in p.administers)


def can_update_network(p: Principal, network_id: str) -> bool:
    return administers(p, network_id)


def can_move_network(p: Principal, current_parent_id: str | None, new_parent_id: str | None) -> bool:
    """Putting a network under another one needs that parent's administrator as well. Detaching it
    (``None``) makes it a top-level network, which only the operator creates, so only the operator detaches."""
    if new_parent_id == current_parent_id:
        return True
    if new_parent_id is None:
        return p.operator
    return administers(p, new_parent_id)


def can_archive_network(p: Principal, network_id: str) -> bool:
    return administers(p, network_id)


def can_read_health_report(p: Principal, network_id: str) -> bool:
    return administers(p, network_id) or network_id in p.facilitates


# --- sessions, outputs, reflections ----------------------------------------------------------------------


def staffs(p: Principal, network_id: str) -> bool:
    """The operator, or a coordinator or facilitator of the network: who runs its sessions."""
    return p.operator or network_id in p.administers or network_id in p.facilitates


def can_schedule_session(p: Principal, network_id: str) -> bool:
    return staffs(p, network_id)


def can_change_session(p: Principal, network_id: str) -> bool:
    """Reschedule, hold, close or cancel a session of ``network_id``."""
    return staffs(p, network_id)


def sees_meeting_url(p: Principal, network_id: str) -> bool:
    """The session directory is open, but a meeting link only reaches people inside the network."""
    return p.operator or network_id in p.networks


def can_register_for_session(p: Principal, network_id: str, member_id: str) -> bool:
    """Members register themselves for sessions of their networks; the network's staff register anyone."""
    return staffs(p, network_id) or (p.is_self(member_id) and network_id in p.member_of)


def can_cancel_registration(p: Principal, network_id: str, member_id: str) -> bool:
    return staffs(p, network_id) or p.is_self(member_id)


def can_list_registrations(p: Principal, network_id: str) -> bool:
    return staffs(p, network_id)


def can_record_attendance(p: Principal, network_id: str) -> bool:
    return staffs(p, network_id)


def can_publish_output(p: Principal, network_id: str) -> bool:
    return staffs(p, network_id)


def can_retract_output(p: Principal, network_id: str) -> bool:
    return staffs(p, network_id)


def can_read_output(p: Principal, network_id: str, visibility: str) -> bool:
    """An output kept within its network (visibility ``network``) is for the people inside it; any other
    visibility is shared beyond the network."""
    return visibility != Visibility.NETWORK or p.operator or network_id in p.networks


def viewer_network_ids(p: Principal, network_id: str | None = None) -> list[str]:
    """The networks a reader is inside of, for consent-aware attribution: inside, authors are named.

    The operator reads as if inside ``network_id`` (the output's network), so names are shown.
    """
    if p.operator:
        return [network_id] if network_id else []
    return sorted(p.networks)


def can_record_reflection(p: Principal) -> bool:
    """A reflection is the member's own: only a member records one, for themself."""
    return p.member_id is not None and not p.operator


def can_reflect_on(p: Principal, network_id: str) -> bool:
    """On a session of a network they belong to (in any role), as registering for one: outside it, 403."""
    return can_record_reflection(p) and network_id in p.networks


def can_read_learning_report(p: Principal, network_id: str) -> bool:
    return staffs(p, network_id)


def new_network_coordinator(p: Principal) -> str | None:
    """Who becomes the coordinator of a network ``p`` creates: a member, so they can staff it. The operator is
    nobody in particular, so nobody."""
    return None if p.operator else p.member_id
